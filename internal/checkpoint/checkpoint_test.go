package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/regularfile"
	"github.com/nlpodyssey/safetensors"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.safetensors")

const goldenPath = "testdata/golden.safetensors"

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		c    *Checkpoint
	}{
		{name: "sample MLP", c: sampleCheckpoint()},
		{name: "no tensors", c: &Checkpoint{Meta: Meta{Model: minimalCard()}}},
		{name: "scalar and empty tensors", c: &Checkpoint{Tensors: []Tensor{
			{Name: "scalar", Shape: nil, Data: []float32{42}},
			{Name: "empty", Shape: []int{0, 5}, Data: nil},
			{Name: "empty.too", Shape: []int{3, 0}, Data: []float32{}},
		}, Meta: Meta{Model: minimalCard()}}},
		{name: "special floats and metrics", c: &Checkpoint{
			Tensors: []Tensor{{Name: "w", Shape: []int{8}, Data: []float32{
				float32(math.Copysign(0, -1)), 0, math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
				math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
			}}},
			Meta: Meta{
				Model: func() ModelCard {
					c := minimalCard()
					c.Input.Channels = 3
					c.Normalization = Normalization{Mean: []float32{float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}, Std: []float32{1, 0, 3}}
					return c
				}(),
				Metrics: map[string]float64{"nan": math.NaN(), "inf": math.Inf(1), "-inf": math.Inf(-1), "neg0": math.Copysign(0, -1), "tiny": 5e-324, "big": math.MaxFloat64},
			},
		}},
		{name: "unicode and JSON-special text", c: &Checkpoint{
			Tensors: []Tensor{{Name: "层.0.\"weight\"<&>", Shape: []int{1}, Data: []float32{1}}},
			Meta: Meta{
				Config: "a: \"<b>\" & 'c'\n\ttab: \u2028 é\n",
				Model: func() ModelCard {
					c := minimalCard()
					c.Classes = []string{"chat", "猫", "a\"b\\c", ""}
					c.Data = DataSource{Dataset: "folder", Location: "/données/\u2028<&>"}
					return c
				}(),
				Epoch: math.MaxInt32, Step: math.MaxInt64,
				State: json.RawMessage(`{ "x" : [1, 2.50, "\u00e9"] }`),
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ck.safetensors")
			names := make([]string, len(tc.c.Tensors))
			for i, tn := range tc.c.Tensors {
				names[i] = tn.Name
			}
			if err := Save(path, tc.c); err != nil {
				t.Fatalf("Save: %v", err)
			}
			for i, tn := range tc.c.Tensors {
				if tn.Name != names[i] {
					t.Fatalf("Save reordered the caller's tensors")
				}
			}
			got, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			assertEqual(t, got, tc.c)
		})
	}
}

func TestSaveDeterministic(t *testing.T) {
	dir := t.TempDir()
	c := sampleCheckpoint()
	reversed := sampleCheckpoint()
	slices.Reverse(reversed.Tensors)
	variants := []struct {
		name string
		c    *Checkpoint
	}{
		{name: "first", c: c},
		{name: "again", c: c},
		{name: "fresh copy", c: sampleCheckpoint()},
		{name: "tensors reversed", c: reversed},
	}
	var first []byte
	for i, v := range variants {
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := Save(path, v.c); err != nil {
			t.Fatalf("%s: Save: %v", v.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("%s: bytes differ from the first save", v.name)
		}
	}
	// A different value must give different bytes.
	c.Meta.Metrics["val_acc"] = 0.5
	path := filepath.Join(dir, "changed")
	if err := Save(path, c); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); bytes.Equal(b, first) {
		t.Error("changing a metric did not change the file")
	}
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golden.safetensors")
	if err := Save(path, sampleCheckpoint()); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Save output (%d bytes) differs from %s (%d bytes); if intended, run go test -update", len(got), goldenPath, len(want))
	}
	c, err := Load(goldenPath)
	if err != nil {
		t.Fatalf("Load golden: %v", err)
	}
	assertEqual(t, c, sampleCheckpoint())
}

// TestSafetensorsLayout checks the properties PyTorch's safetensors library
// relies on, decoding the file by hand rather than with this package.
func TestSafetensorsLayout(t *testing.T) {
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	header := b[8 : 8+n]
	data := b[8+n:]
	trimmed := bytes.TrimRight(header, " ")
	if header[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		t.Errorf("header is not a JSON object padded with spaces: %q", header)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(header, &top); err != nil {
		t.Fatalf("header JSON: %v", err)
	}
	var md map[string]string
	if err := json.Unmarshal(top["__metadata__"], &md); err != nil {
		t.Fatalf("__metadata__ is not a string map: %v", err)
	}
	sum := sha256.Sum256(data)
	wantMeta := map[string]string{
		"format":         "lepton",
		"format_version": "2",
		"epoch":          "3",
		"step":           "1173",
		"model": `{"architecture":"mlp","input":{"height":1,"width":2,"channels":1,"layout":"CHW"},` +
			`"normalization":{"mean":[0.4914],"std":[0.247]},"hidden":[3],"activation":"leaky_relu","leaky_slope":0.2,` +
			`"batch_norm":false,"bn_eps":0.00001,` +
			`"classes":["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"],` +
			`"data":{"dataset":"folder","location":"/data/photos","resize":"crop","test_split":0.25,"seed":7}}`,
		"metrics":     `{"train_loss":1.5,"val_acc":0.4321}`,
		"state":       `{"rng":[1,2,3],"lr":0.01}`,
		"config":      sampleCheckpoint().Meta.Config,
		"data_sha256": hex.EncodeToString(sum[:]),
	}
	for k, v := range wantMeta {
		if md[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, md[k], v)
		}
	}
	if len(md[keyHeaderSHA]) != 64 {
		t.Errorf("header_sha256 = %q, want 64 hex digits", md[keyHeaderSHA])
	}

	type entry struct {
		DType       string   `json:"dtype"`
		Shape       []int    `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	var names []string
	for k := range top {
		if k != "__metadata__" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var next int64
	for _, name := range names {
		var e entry
		if err := json.Unmarshal(top[name], &e); err != nil {
			t.Fatalf("tensor %q entry: %v", name, err)
		}
		count := int64(1)
		for _, d := range e.Shape {
			count *= int64(d)
		}
		if e.DType != "F32" || e.DataOffsets[0] != next || e.DataOffsets[1]-e.DataOffsets[0] != 4*count {
			t.Errorf("tensor %q entry %+v, want F32 at [%d, %d]", name, e, next, next+4*count)
		}
		next = e.DataOffsets[1]
	}
	if next != int64(len(data)) {
		t.Errorf("tensors cover %d bytes, data section has %d", next, len(data))
	}
	// layers.0.bias comes first in name order; its first value is 0.1.
	if got := math.Float32frombits(binary.LittleEndian.Uint32(data)); got != 0.1 {
		t.Errorf("first data value = %v, want 0.1 (little-endian layers.0.bias[0])", got)
	}
}

func TestLoadCorrupt(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int, mask byte) []byte {
		b = slices.Clone(b)
		b[i] ^= mask
		return b
	}
	hdrLen := int(binary.LittleEndian.Uint64(golden))
	nameAt := bytes.Index(golden, []byte(`"layers.0.bias"`))
	meanAt := bytes.Index(golden, []byte(`0.4914`))
	if nameAt < 0 || meanAt < 0 {
		t.Fatal("golden file lacks expected header text")
	}

	md := validMeta(t)
	data := make([]byte, 16)
	for i := range data {
		data[i] = byte(i)
	}
	good := []rawTensor{
		{name: "a", dtype: "F32", shape: []uint64{2}, offsets: [2]uint64{0, 8}},
		{name: "b", dtype: "F32", shape: []uint64{1, 2}, offsets: [2]uint64{8, 16}},
	}
	with := func(i int, f func(*rawTensor)) []rawTensor {
		ts := slices.Clone(good)
		f(&ts[i])
		return ts
	}
	withMeta := func(key, value string) map[string]string {
		m := validMeta(t)
		if value == "\x00delete" {
			delete(m, key)
		} else {
			m[key] = value
		}
		return m
	}
	withModel := func(f func(*ModelCard)) map[string]string {
		c := sampleCard()
		f(&c)
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return withMeta(keyModel, string(b))
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<60)

	tests := []struct {
		name    string
		file    []byte
		wantIs  error  // nil: Load must succeed
		wantMsg string // substring of the error after "<path>: "
	}{
		{name: "crafted control is valid", file: craft(t, md, good, data, true)},
		{name: "empty file", file: nil, wantIs: ErrCorrupt, wantMsg: "corrupt checkpoint: file is 0 bytes, too short"},
		{name: "five bytes", file: golden[:5], wantIs: ErrCorrupt, wantMsg: "file is 5 bytes, too short"},
		{name: "header length 2^60", file: append(huge, "{}"...), wantIs: ErrCorrupt, wantMsg: "header length 1152921504606846976 exceeds the 2 bytes that follow it"},
		{name: "truncated after length", file: golden[:8], wantIs: ErrCorrupt, wantMsg: "header length " + strconv.Itoa(hdrLen) + " exceeds the 0 bytes"},
		{name: "truncated in header", file: golden[:8+hdrLen/2], wantIs: ErrCorrupt, wantMsg: "exceeds the"},
		{name: "truncated after header", file: golden[:8+hdrLen], wantIs: ErrCorrupt, wantMsg: "out of range: data section is 0 bytes"},
		{name: "truncated in data", file: golden[:len(golden)-9], wantIs: ErrCorrupt, wantMsg: "out of range"},
		{name: "last byte missing", file: golden[:len(golden)-1], wantIs: ErrCorrupt, wantMsg: "out of range"},
		{name: "trailing garbage", file: append(slices.Clone(golden), 0), wantIs: ErrCorrupt, wantMsg: "tensors cover 80 bytes but data section is 81 bytes"},
		{name: "bit flip in data", file: flip(golden, len(golden)-3, 0x10), wantIs: ErrCorrupt, wantMsg: "data checksum mismatch"},
		{name: "bit flip in tensor name", file: flip(golden, nameAt+len(`"layers.0.b`), 0x01), wantIs: ErrCorrupt, wantMsg: "header checksum mismatch"},
		{name: "bit flip in mean", file: flip(golden, meanAt+3, 0x01), wantIs: ErrCorrupt, wantMsg: "header checksum mismatch"},
		{name: "bit flip in length low byte", file: flip(golden, 0, 0x08), wantIs: ErrCorrupt, wantMsg: "header is not valid UTF-8"},
		{name: "bit flip in length high byte", file: flip(golden, 7, 0x80), wantIs: ErrCorrupt, wantMsg: "header length " + strconv.FormatUint(uint64(hdrLen)|1<<63, 10) + " exceeds"},
		{name: "invalid JSON", file: rawFile([]byte(`{"__metadata__": {"format": "lepton"`), nil), wantIs: ErrCorrupt, wantMsg: "invalid JSON header: unexpected end of JSON input"},
		{name: "JSON array", file: rawFile([]byte(`[1,2]`), nil), wantIs: ErrCorrupt, wantMsg: "invalid JSON header"},
		{name: "not UTF-8", file: rawFile([]byte("{\"\xff\": 1}"), nil), wantIs: ErrCorrupt, wantMsg: "header is not valid UTF-8"},
		{name: "plain safetensors without metadata", file: craft(t, nil, good, data, false), wantIs: ErrCorrupt, wantMsg: `missing "format" metadata (not a lepton checkpoint)`},
		{name: "format missing", file: craft(t, withMeta(keyFormat, "\x00delete"), good, data, true), wantIs: ErrCorrupt, wantMsg: `missing "format" metadata`},
		{name: "other format", file: craft(t, withMeta(keyFormat, "pt"), good, data, true), wantIs: ErrCorrupt, wantMsg: `format metadata is "pt", want "lepton"`},
		{name: "metadata not strings", file: rawFile([]byte(`{"__metadata__":{"format":1}}`), nil), wantIs: ErrCorrupt, wantMsg: "invalid __metadata__"},
		{name: "version missing", file: craft(t, withMeta(keyFormatVersion, "\x00delete"), good, data, true), wantIs: ErrCorrupt, wantMsg: `missing "format_version" metadata`},
		{name: "version not a number", file: craft(t, withMeta(keyFormatVersion, "one"), good, data, true), wantIs: ErrCorrupt, wantMsg: `format_version metadata "one" is not an integer`},
		{name: "version 7", file: craft(t, withMeta(keyFormatVersion, "7"), good, data, true), wantIs: ErrVersion, wantMsg: "checkpoint format version 7, this lepton reads versions 1 to 2"},
		{name: "version 0 with broken tensors", file: craft(t, withMeta(keyFormatVersion, "0"), with(0, func(r *rawTensor) { r.dtype = "F64" }), data, false), wantIs: ErrVersion, wantMsg: "checkpoint format version 0, this lepton reads versions 1 to 2"},
		{name: "unknown dtype", file: craft(t, md, with(0, func(r *rawTensor) { r.dtype = "Q4" }), data, false), wantIs: ErrCorrupt, wantMsg: `invalid header: failed to JSON-decode tensor "a": invalid DType string value "Q4"`},
		{name: "dtype F16", file: craft(t, md, with(0, func(r *rawTensor) { r.dtype = "F16"; r.shape = []uint64{4} }), data, true), wantIs: ErrCorrupt, wantMsg: `tensor "a" has dtype F16, want F32`},
		{name: "shape mismatch", file: craft(t, md, with(1, func(r *rawTensor) { r.shape = []uint64{3} }), data, true), wantIs: ErrCorrupt, wantMsg: `tensor "b" has shape [3] (3 values) but data_offsets [8, 16] span 8 bytes`},
		{name: "shape overflow", file: craft(t, md, with(1, func(r *rawTensor) { r.shape = []uint64{1 << 40, 1 << 40} }), data, true), wantIs: ErrCorrupt, wantMsg: `tensor "b" shape [1099511627776 1099511627776]: element count overflows`},
		{name: "dimension too large", file: craft(t, md, with(1, func(r *rawTensor) { r.shape = []uint64{0, 1 << 40}; r.offsets = [2]uint64{8, 8} }), data[:8], true), wantIs: ErrCorrupt, wantMsg: "dimension out of range"},
		{name: "offsets beyond data", file: craft(t, md, with(1, func(r *rawTensor) { r.offsets = [2]uint64{8, 1 << 62} }), data, true), wantIs: ErrCorrupt, wantMsg: `tensor "b" data_offsets [8, 4611686018427387904] out of range: data section is 16 bytes`},
		{name: "begin after end", file: craft(t, md, with(1, func(r *rawTensor) { r.offsets = [2]uint64{16, 8} }), data, true), wantIs: ErrCorrupt, wantMsg: `tensor "b" has data_offsets [16, 8] with begin after end`},
		{name: "overlapping", file: craft(t, md, with(1, func(r *rawTensor) { r.offsets = [2]uint64{4, 12} }), data[:12], true), wantIs: ErrCorrupt, wantMsg: `tensor "b" data_offsets [4, 12] overlap tensor "a" ending at 8`},
		{name: "gap", file: craft(t, md, with(0, func(r *rawTensor) { r.offsets = [2]uint64{4, 12} }), append(slices.Clone(data), make([]byte, 4)...), true), wantIs: ErrCorrupt, wantMsg: `4 unused data bytes before tensor "a" at offset 4`},
		{name: "data not covered", file: craft(t, md, good, append(slices.Clone(data), 1, 2, 3, 4), true), wantIs: ErrCorrupt, wantMsg: "tensors cover 16 bytes but data section is 20 bytes"},
		{name: "empty tensor name", file: craft(t, md, with(0, func(r *rawTensor) { r.name = "" }), data, true), wantIs: ErrCorrupt, wantMsg: "tensor with empty name"},
		{name: "data checksum missing", file: func() []byte {
			m := validMeta(t)
			return craft(t, m, good, data, false)
		}(), wantIs: ErrCorrupt, wantMsg: `missing "data_sha256" metadata`},
		{name: "data checksum wrong", file: func() []byte {
			// A valid header digest over a wrong data digest.
			m := withMeta(keyDataSHA, strings.Repeat("0", 64))
			index := []tensorIndex{
				{name: "a", dtype: safetensors.F32, shape: good[0].shape, offsets: good[0].offsets},
				{name: "b", dtype: safetensors.F32, shape: good[1].shape, offsets: good[1].offsets},
			}
			m[keyHeaderSHA] = headerDigest(m, index)
			return craft(t, m, good, data, false)
		}(), wantIs: ErrCorrupt, wantMsg: "data checksum mismatch (header records 0000000000000000…"},
		{name: "header checksum missing", file: func() []byte {
			m := validMeta(t)
			sum := sha256.Sum256(data)
			m[keyDataSHA] = hex.EncodeToString(sum[:])
			return craft(t, m, good, data, false)
		}(), wantIs: ErrCorrupt, wantMsg: `missing "header_sha256" metadata`},
		{name: "config missing", file: craft(t, withMeta(keyConfig, "\x00delete"), good, data, true), wantIs: ErrCorrupt, wantMsg: `missing "config" metadata`},
		{name: "model missing", file: craft(t, withMeta(keyModel, "\x00delete"), good, data, true), wantIs: ErrCorrupt, wantMsg: `missing "model" metadata`},
		{name: "model not JSON", file: craft(t, withMeta(keyModel, "mlp"), good, data, true), wantIs: ErrCorrupt, wantMsg: "decode model metadata"},
		{name: "model of another architecture", file: craft(t, withModel(func(c *ModelCard) { c.Architecture = "cnn" }), good, data, true), wantIs: ErrCorrupt, wantMsg: `model metadata: model architecture "cnn" is not "mlp"`},
		{name: "model with two means for one channel", file: craft(t, withModel(func(c *ModelCard) { c.Normalization.Mean = []float32{0, 0} }), good, data, true), wantIs: ErrCorrupt, wantMsg: "model normalization has 2 means and 1 stds for 1 channels"},
		{name: "model with 2 channels", file: craft(t, withModel(func(c *ModelCard) { c.Input.Channels = 2 }), good, data, true), wantIs: ErrCorrupt, wantMsg: "model input 1x2x2: height and width must be positive, channels 1 or 3"},
		{name: "model input of 2^40 values", file: craft(t, withModel(func(c *ModelCard) { c.Input.Height, c.Input.Width = 1<<20, 1<<20 }), good, data, true), wantIs: ErrCorrupt, wantMsg: "more than 16777216 values"},
		{name: "model with a zero hidden layer", file: craft(t, withModel(func(c *ModelCard) { c.Hidden = []int{0} }), good, data, true), wantIs: ErrCorrupt, wantMsg: "model hidden[0] size 0 is out of range"},
		{name: "model without classes", file: craft(t, withModel(func(c *ModelCard) { c.Classes = nil }), good, data, true), wantIs: ErrCorrupt, wantMsg: "model has no class names"},
		{name: "model in another layout", file: craft(t, withModel(func(c *ModelCard) { c.Input.Layout = "HWC" }), good, data, true), wantIs: ErrCorrupt, wantMsg: `model input layout "HWC" is not "CHW"`},
		{name: "model std overflows float32", file: craft(t, withMeta(keyModel, strings.Replace(md[keyModel], `"std":[0.247]`, `"std":[1e39]`, 1)), good, data, true), wantIs: ErrCorrupt, wantMsg: "decode model metadata"},
		{name: "negative epoch", file: craft(t, withMeta(keyEpoch, "-1"), good, data, true), wantIs: ErrCorrupt, wantMsg: `epoch metadata "-1" is not a non-negative integer`},
		{name: "step not a number", file: craft(t, withMeta(keyStep, "1.5"), good, data, true), wantIs: ErrCorrupt, wantMsg: `step metadata "1.5" is not a non-negative integer`},
		{name: "bad metric", file: craft(t, withMeta(keyMetrics, `{"val_acc":"high"}`), good, data, true), wantIs: ErrCorrupt, wantMsg: `metric value "high" is not a number`},
		{name: "state not JSON", file: craft(t, withMeta(keyState, "{"), good, data, true), wantIs: ErrCorrupt, wantMsg: "state metadata is not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "x.safetensors", tc.file)
			c, err := Load(path)
			if tc.wantIs == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if len(c.Tensors) != 2 {
					t.Errorf("loaded %d tensors, want 2", len(c.Tensors))
				}
				return
			}
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			if c != nil {
				t.Error("Load returned a checkpoint along with an error")
			}
			if !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tc.wantIs)
			}
			other := ErrVersion
			if tc.wantIs == ErrVersion {
				other = ErrCorrupt
			}
			if errors.Is(err, other) {
				t.Errorf("error %q also wraps %v", err, other)
			}
			msg := err.Error()
			prefix := path + ": "
			if tc.wantIs == ErrCorrupt {
				prefix += "corrupt checkpoint: "
			}
			if !strings.HasPrefix(msg, prefix) {
				t.Errorf("error %q does not start with %q", msg, prefix)
			}
			if !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q does not contain %q", msg, tc.wantMsg)
			}
			if strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error %q spans several lines", msg)
			}
		})
	}
}

func TestLoadVersionMessage(t *testing.T) {
	md := validMeta(t)
	md[keyFormatVersion] = "7"
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.safetensors")
	if err := os.WriteFile(path, craft(t, md, nil, nil, true), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + ": checkpoint format version 7, this lepton reads versions 1 to 2"
	if err == nil || err.Error() != want {
		t.Fatalf("Load error = %v, want %q", err, want)
	}
}

// TestLoadDetectsEveryBitFlip flips each bit of the golden file in turn.
func TestLoadDetectsEveryBitFlip(t *testing.T) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decode(golden); err != nil {
		t.Fatalf("decode golden: %v", err)
	}
	b := slices.Clone(golden)
	for i := range b {
		for bit := range 8 {
			b[i] ^= 1 << bit
			_, err := decode(b)
			if err == nil {
				t.Errorf("flipping bit %d of byte %d (%q) went unnoticed", bit, i, golden[i])
			} else if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Errorf("flipping bit %d of byte %d: error %v wraps neither ErrCorrupt nor ErrVersion", bit, i, err)
			}
			b[i] ^= 1 << bit
		}
	}
}

func TestLoadDoesNotAllocateUntrustedSizes(t *testing.T) {
	md := validMeta(t)
	tests := []struct {
		name string
		file []byte
	}{
		{name: "header length 2^60", file: binary.LittleEndian.AppendUint64(nil, 1<<60)},
		{name: "header length 2^64-1", file: binary.LittleEndian.AppendUint64(nil, math.MaxUint64)},
		{name: "tensor claims 2^40 values", file: craft(t, md, []rawTensor{
			{name: "w", dtype: "F32", shape: []uint64{1 << 20, 1 << 20}, offsets: [2]uint64{0, 1 << 42}},
		}, nil, true)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "big.safetensors", tc.file)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Load(path)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load error = %v, want ErrCorrupt", err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("Load allocated %d bytes for a %d-byte file", alloc, len(tc.file))
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		path   string
		wantIs error
		want   string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.safetensors"), wantIs: fs.ErrNotExist,
			want: "open checkpoint " + filepath.Join(dir, "nope.safetensors") + ": no such file or directory"},
		{name: "directory", path: dir, wantIs: regularfile.ErrNotRegular, want: "open checkpoint " + dir + ": is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path)
			if err == nil {
				t.Fatal("Load succeeded, want error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tc.wantIs)
			}
			if errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v wraps ErrCorrupt for an I/O problem", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestSaveRejectsInvalid(t *testing.T) {
	mod := func(f func(c *Checkpoint)) *Checkpoint {
		c := sampleCheckpoint()
		f(c)
		return c
	}
	tests := []struct {
		name string
		c    *Checkpoint
		want string
	}{
		{name: "nil checkpoint", c: nil, want: "nil checkpoint"},
		{name: "data shorter than shape", c: mod(func(c *Checkpoint) { c.Tensors[0].Data = c.Tensors[0].Data[:5] }),
			want: `tensor "layers.2.weight" has shape [2 3] (6 values) but 5 data values`},
		{name: "data longer than shape", c: mod(func(c *Checkpoint) { c.Tensors[1].Shape = []int{2, 2} }),
			want: `tensor "layers.0.weight" has shape [2 2] (4 values) but 6 data values`},
		{name: "negative dimension", c: mod(func(c *Checkpoint) { c.Tensors[2].Shape = []int{-3} }),
			want: `tensor "layers.0.bias" shape [-3]: dimension out of range`},
		{name: "duplicate name", c: mod(func(c *Checkpoint) {
			c.Tensors[3].Name = "layers.0.bias"
			c.Tensors[3].Data = c.Tensors[3].Data[:1]
			c.Tensors[3].Shape = []int{1}
		}),
			want: `duplicate tensor "layers.0.bias"`},
		{name: "empty name", c: mod(func(c *Checkpoint) { c.Tensors[0].Name = "" }), want: "tensor with empty name"},
		{name: "reserved name", c: mod(func(c *Checkpoint) { c.Tensors[0].Name = "__metadata__" }), want: `tensor name "__metadata__" is reserved`},
		{name: "name not UTF-8", c: mod(func(c *Checkpoint) { c.Tensors[0].Name = "w\xff" }), want: "is not valid UTF-8"},
		{name: "NaN mean", c: mod(func(c *Checkpoint) { c.Meta.Model.Normalization.Mean[0] = float32(math.NaN()) }), want: "meta model normalization of channel 0: mean NaN"},
		{name: "no model card", c: mod(func(c *Checkpoint) { c.Meta.Model = ModelCard{} }), want: `meta model architecture "" is not "mlp"`},
		{name: "class name not UTF-8", c: mod(func(c *Checkpoint) { c.Meta.Model.Classes[2] = "\xff" }), want: "meta model class 2 is not valid UTF-8"},
		{name: "negative epoch", c: mod(func(c *Checkpoint) { c.Meta.Epoch = -1 }), want: "meta epoch -1 is negative"},
		{name: "negative step", c: mod(func(c *Checkpoint) { c.Meta.Step = -1 }), want: "meta step -1 is negative"},
		{name: "state not JSON", c: mod(func(c *Checkpoint) { c.Meta.State = json.RawMessage("{") }), want: "meta state is not valid JSON"},
		{name: "future format version", c: mod(func(c *Checkpoint) { c.Meta.FormatVersion = 7 }), want: "meta format_version is 7, this lepton writes version 2"},
		{name: "config not UTF-8", c: mod(func(c *Checkpoint) { c.Meta.Config = "\xfe" }), want: "meta config is not valid UTF-8"},
		{name: "config over MaxConfig", c: mod(func(c *Checkpoint) { c.Meta.Config = strings.Repeat("#", MaxConfig+1) }), want: "meta: config metadata is 1048577 bytes, more than the 1048576 allowed"},
		{name: "state over MaxMetadata", c: mod(func(c *Checkpoint) { c.Meta.State = json.RawMessage(`"` + strings.Repeat("x", MaxMetadata) + `"`) }), want: "meta: metadata is"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "model.safetensors")
			if err := Save(path, sampleCheckpoint()); err != nil {
				t.Fatalf("Save previous checkpoint: %v", err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			err = Save(path, tc.c)
			if err == nil {
				t.Fatal("Save succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "save checkpoint "+path+": ") {
				t.Errorf("error = %q, want %q naming %s", err, tc.want, path)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("failed Save changed the previous checkpoint")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries, want 1", len(entries))
			}
		})
	}
}

func TestSaveWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "ck.safetensors")
	err := Save(path, sampleCheckpoint())
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Save error = %v, want one wrapping fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "save checkpoint: write "+path+": ") {
		t.Errorf("error = %q, want it to name %s once", err, path)
	}
}

func TestTensorLookup(t *testing.T) {
	c := sampleCheckpoint()
	tests := []struct {
		name    string
		lookup  string
		wantErr string
	}{
		{name: "weight", lookup: "layers.0.weight"},
		{name: "optimizer state", lookup: "optim.m.layers.0.bias"},
		{name: "missing", lookup: "layers.4.weight", wantErr: `checkpoint has no tensor "layers.4.weight"`},
		{name: "prefix only", lookup: "layers.0", wantErr: `checkpoint has no tensor "layers.0"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tn, err := c.Tensor(tc.lookup)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Tensor(%q) error = %v, want %q", tc.lookup, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Tensor(%q): %v", tc.lookup, err)
			}
			if tn.Name != tc.lookup {
				t.Errorf("Tensor(%q) returned %q", tc.lookup, tn.Name)
			}
			tn.Data[0] = 99
			if again, _ := c.Tensor(tc.lookup); again.Data[0] != 99 {
				t.Error("Tensor does not point into the checkpoint")
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	if v1, err := os.ReadFile(goldenV1Path); err == nil {
		f.Add(v1)
	}
	for _, n := range []int{0, 4, 8, 9, 64, len(golden) / 2, len(golden) - 4, len(golden) - 1} {
		f.Add(golden[:n])
	}
	f.Add(append(slices.Clone(golden), 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		// decode is Load without the file read, so the fuzzer runs in memory;
		// only accepted inputs go through files.
		c, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrCorrupt nor ErrVersion", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error %q spans several lines", err)
			}
			return
		}
		out := filepath.Join(t.TempDir(), "out.safetensors")
		if err := Save(out, c); err != nil {
			t.Fatalf("Save of loaded checkpoint: %v", err)
		}
		c2, err := Load(out)
		if err != nil {
			t.Fatalf("Load of re-saved checkpoint: %v", err)
		}
		c.Meta.FormatVersion = FormatVersion // Save writes the current format
		assertEqual(t, c2, c)
	})
}
