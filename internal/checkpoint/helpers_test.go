package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nlpodyssey/safetensors"
)

// sampleCheckpoint is a tiny two-layer MLP checkpoint with awkward values; it
// is the content of testdata/golden.safetensors.
func sampleCheckpoint() *Checkpoint {
	return &Checkpoint{
		Tensors: []Tensor{
			// Deliberately not in name order.
			{Name: "layers.2.weight", Shape: []int{2, 3}, Data: []float32{
				0.5, -0.25, float32(math.Copysign(0, -1)),
				math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
			}},
			{Name: "layers.0.weight", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 1.0 / 3}},
			{Name: "layers.0.bias", Shape: []int{3}, Data: []float32{0.1, -0.2, 1e-38}},
			{Name: "layers.2.bias", Shape: []int{2}, Data: []float32{float32(math.Inf(1)), float32(math.Inf(-1))}},
			{Name: "optim.m.layers.0.bias", Shape: []int{3}, Data: []float32{0, 0, 1e-7}},
		},
		Meta: Meta{
			FormatVersion: FormatVersion,
			Config:        "model:\n  hidden: [3]\n  activation: relu\ntrain:\n  lr: 0.01\n",
			Model:         sampleCard(),
			Epoch:         3,
			Step:          1173,
			Metrics:       map[string]float64{"val_acc": 0.4321, "train_loss": 1.5},
			State:         json.RawMessage(`{"rng":[1,2,3],"lr":0.01}`),
		},
	}
}

// sampleCard is the model card of sampleCheckpoint: a 1x2 grey input (two
// values), one hidden layer of 3, CIFAR-10's class names.
func sampleCard() ModelCard {
	return ModelCard{
		Architecture:  Architecture,
		Input:         Input{Height: 1, Width: 2, Channels: 1, Layout: LayoutCHW},
		Normalization: Normalization{Mean: []float32{0.4914}, Std: []float32{0.2470}},
		Hidden:        []int{3},
		Activation:    "leaky_relu",
		LeakySlope:    0.2,
		BatchNorm:     false,
		BNEps:         1e-5,
		Classes:       []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"},
		Data:          DataSource{Dataset: "folder", Location: "/data/photos", Resize: "crop", TestSplit: 0.25, Seed: 7},
	}
}

// minimalCard is a valid card with one class and no hidden layer.
func minimalCard() ModelCard {
	return ModelCard{Architecture: Architecture, Input: Input{Height: 1, Width: 1, Channels: 1, Layout: LayoutCHW},
		Normalization: Normalization{Mean: []float32{0}, Std: []float32{1}}, Hidden: []int{}, Classes: []string{"only"}}
}

// assertEqual fails unless got equals want bit for bit, allowing for what
// Load normalizes: FormatVersion 0 becomes FormatVersion, tensors come back
// sorted by name, and empty slices/maps may be nil.
func assertEqual(t *testing.T, got, want *Checkpoint) {
	t.Helper()
	wantTensors := make(map[string]Tensor, len(want.Tensors))
	for _, tn := range want.Tensors {
		wantTensors[tn.Name] = tn
	}
	if len(got.Tensors) != len(wantTensors) {
		t.Fatalf("got %d tensors, want %d", len(got.Tensors), len(wantTensors))
	}
	for i, g := range got.Tensors {
		if i > 0 && got.Tensors[i-1].Name >= g.Name {
			t.Errorf("tensors not sorted by name: %q then %q", got.Tensors[i-1].Name, g.Name)
		}
		w, ok := wantTensors[g.Name]
		if !ok {
			t.Errorf("unexpected tensor %q", g.Name)
			continue
		}
		if len(g.Shape) != len(w.Shape) {
			t.Errorf("tensor %q shape %v, want %v", g.Name, g.Shape, w.Shape)
		}
		for j := range min(len(g.Shape), len(w.Shape)) {
			if g.Shape[j] != w.Shape[j] {
				t.Errorf("tensor %q shape %v, want %v", g.Name, g.Shape, w.Shape)
				break
			}
		}
		if len(g.Data) != len(w.Data) {
			t.Errorf("tensor %q has %d values, want %d", g.Name, len(g.Data), len(w.Data))
			continue
		}
		for j := range g.Data {
			if math.Float32bits(g.Data[j]) != math.Float32bits(w.Data[j]) {
				t.Errorf("tensor %q value %d = %g (%#08x), want %g (%#08x)", g.Name, j,
					g.Data[j], math.Float32bits(g.Data[j]), w.Data[j], math.Float32bits(w.Data[j]))
			}
		}
	}

	gm, wm := got.Meta, want.Meta
	if wm.FormatVersion == 0 {
		wm.FormatVersion = FormatVersion
	}
	if gm.FormatVersion != wm.FormatVersion {
		t.Errorf("FormatVersion = %d, want %d", gm.FormatVersion, wm.FormatVersion)
	}
	if gm.Config != wm.Config {
		t.Errorf("Config = %q, want %q", gm.Config, wm.Config)
	}
	if !reflect.DeepEqual(gm.Model, wm.Model) {
		t.Errorf("Model = %+v, want %+v", gm.Model, wm.Model)
	}
	if gm.Epoch != wm.Epoch || gm.Step != wm.Step {
		t.Errorf("Epoch/Step = %d/%d, want %d/%d", gm.Epoch, gm.Step, wm.Epoch, wm.Step)
	}
	if len(gm.Metrics) != len(wm.Metrics) {
		t.Errorf("Metrics = %v, want %v", gm.Metrics, wm.Metrics)
	}
	for k, w := range wm.Metrics {
		g, ok := gm.Metrics[k]
		same := g == w && math.Signbit(g) == math.Signbit(w) || math.IsNaN(g) && math.IsNaN(w)
		if !ok || !same {
			t.Errorf("Metrics[%q] = %v (present %v), want %v", k, g, ok, w)
		}
	}
	if !bytes.Equal(gm.State, wm.State) {
		t.Errorf("State = %q, want %q", gm.State, wm.State)
	}
}

// rawTensor is a tensor header entry for crafted files.
type rawTensor struct {
	name    string
	dtype   string
	shape   []uint64
	offsets [2]uint64
}

// validMeta returns the metadata entries Save writes for the sample
// checkpoint, without checksums.
func validMeta(t *testing.T) map[string]string {
	t.Helper()
	md, err := encodeMeta(&sampleCheckpoint().Meta)
	if err != nil {
		t.Fatalf("encodeMeta: %v", err)
	}
	return md
}

// craft builds a safetensors file from arbitrary header parts. With rehash,
// it stores correct data_sha256 and header_sha256 entries so that only the
// deliberate defect is wrong.
func craft(t *testing.T, md map[string]string, tensors []rawTensor, data []byte, rehash bool) []byte {
	t.Helper()
	md = maps.Clone(md)
	if rehash {
		sum := sha256.Sum256(data)
		md[keyDataSHA] = hex.EncodeToString(sum[:])
		index := make([]tensorIndex, 0, len(tensors))
		for _, rt := range tensors {
			dt, err := safetensors.ParseDType(rt.dtype)
			if err != nil {
				t.Fatalf("craft: %v", err)
			}
			index = append(index, tensorIndex{name: rt.name, dtype: dt, shape: rt.shape, offsets: rt.offsets})
		}
		md[keyHeaderSHA] = headerDigest(md, index)
	}
	obj := map[string]any{}
	if md != nil {
		obj[metadataKey] = md
	}
	for _, rt := range tensors {
		shape := rt.shape
		if shape == nil {
			shape = []uint64{}
		}
		obj[rt.name] = map[string]any{"dtype": rt.dtype, "shape": shape, "data_offsets": rt.offsets}
	}
	hdr, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("craft: %v", err)
	}
	return rawFile(hdr, data)
}

// rawFile assembles length prefix, space-padded header and data.
func rawFile(header, data []byte) []byte {
	for len(header)%8 != 0 {
		header = append(header, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// writeTemp writes b to a new file in a temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
