package classifier

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
)

var digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// greyModel is a 28x28 grey model (MNIST's shape) with batch norm and
// leaky ReLU, random weights and running statistics.
func greyModel(t *testing.T) *Model {
	t.Helper()
	g := data.Geometry{Height: 28, Width: 28, Channels: 1}
	spec := model.Spec{Input: g.Size(), Hidden: []int{16, 8}, Classes: 10, Activation: "leaky_relu", LeakySlope: 0.1,
		Init: "he", BatchNorm: true, BNEps: 1e-3}
	p, err := model.NewParams(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range p.Layers {
		if l.BN != nil {
			for j := range l.BN.RunningVar {
				l.BN.RunningMean[j] = float32(j%3) * 0.1
				l.BN.RunningVar[j] = 0.5 + float32(i+j%5)*0.1
			}
		}
	}
	m, err := New(spec, p, g, data.Stats{Mean: []float32{0.1307}, Std: []float32{0.3081}}, digits)
	if err != nil {
		t.Fatal(err)
	}
	m.Data = checkpoint.DataSource{Dataset: "mnist", Location: "/data/mnist"}
	m.TrainConfig = "name: grey\n"
	return m
}

func saveLoad(t *testing.T, ck *checkpoint.Checkpoint) *checkpoint.Checkpoint {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	got, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// logits returns the model's logits for n deterministic images.
func logits(t *testing.T, m *Model, n int) []float32 {
	t.Helper()
	size := m.Geometry.Size()
	var out []float32
	err := m.Logits(context.Background(), n, func(i int, dst []float32) {
		img := make([]byte, size)
		for j := range img {
			img[j] = byte((i*31 + j*7) % 256)
		}
		m.Stats.Normalize(dst, img)
	}, func(_ int, l []float32) { out = append(out, l...) })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCheckpointRoundTrip checks that a model saved and loaded through its
// description comes back whole: geometry, normalization, classes, data
// set, network and logits, with no training config needed.
func TestCheckpointRoundTrip(t *testing.T) {
	m := greyModel(t)
	defer m.Close()
	ck, err := m.Checkpoint(checkpoint.Meta{Epoch: 2})
	if err != nil {
		t.Fatal(err)
	}
	loaded := saveLoad(t, ck)
	want := checkpoint.ModelCard{
		Architecture: "mlp", Input: checkpoint.Input{Height: 28, Width: 28, Channels: 1, Layout: "CHW"},
		Normalization: checkpoint.Normalization{Mean: []float32{0.1307}, Std: []float32{0.3081}},
		Hidden:        []int{16, 8}, Activation: "leaky_relu", LeakySlope: 0.1, BatchNorm: true, BNEps: 1e-3,
		Classes: digits, Data: checkpoint.DataSource{Dataset: "mnist", Location: "/data/mnist"},
	}
	if !reflect.DeepEqual(loaded.Meta.Model, want) {
		t.Errorf("stored card %+v\nwant %+v", loaded.Meta.Model, want)
	}
	loaded.Meta.Config = "this: [is not a config the validator reads"
	got, err := FromCheckpoint(loaded)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	if got.Geometry != m.Geometry || !slices.Equal(got.Classes, m.Classes) || !reflect.DeepEqual(got.Stats, m.Stats) || got.Data != m.Data {
		t.Errorf("loaded model %v %v %v %v, want %v %v %v %v", got.Geometry, got.Classes, got.Stats, got.Data, m.Geometry, m.Classes, m.Stats, m.Data)
	}
	if !slices.Equal(got.Spec.Sizes(), m.Spec.Sizes()) || got.Spec.Activation != "leaky_relu" || got.Spec.LeakySlope != 0.1 || got.Spec.Eps() != 1e-3 {
		t.Errorf("loaded spec %+v, want %+v", got.Spec, m.Spec)
	}
	a, b := logits(t, m, 7), logits(t, got, 7)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("logit %d: %v after loading, %v before", i, b[i], a[i])
		}
	}
	if s := got.ImageShape(); s.Width != 28 || s.Height != 28 || s.Channels != 1 || s.Fit != "stretch" {
		t.Errorf("ImageShape = %+v", s)
	}
}

// TestFromCheckpointRefusesMismatch checks every way a checkpoint's
// description can differ from its tensors: each is refused with the tensor
// and both shapes named (issue 10 item 11: a checkpoint whose stated input
// differed from its tensors was accepted and fed truncated images).
func TestFromCheckpointRefusesMismatch(t *testing.T) {
	m := greyModel(t)
	defer m.Close()
	base, err := m.Checkpoint(checkpoint.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(*checkpoint.Checkpoint)
		want string
	}{
		{name: "input stated as 32x32x3", mod: func(c *checkpoint.Checkpoint) {
			c.Meta.Model.Input = checkpoint.Input{Height: 32, Width: 32, Channels: 3, Layout: "CHW"}
			c.Meta.Model.Normalization = checkpoint.Normalization{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
		}, want: "tensor layers.0.weight has shape [16 784], the model needs [16 3072] (model description: 32x32x3 input, hidden [16 8], leaky_relu, batch norm, 10 classes)"},
		{name: "input stated as 14x28x1", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Input.Height = 14 },
			want: "tensor layers.0.weight has shape [16 784], the model needs [16 392]"},
		{name: "hidden layer of another size", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Hidden = []int{16, 9} },
			want: "tensor layers.1.weight has shape [8 16], the model needs [9 16]"},
		{name: "a hidden layer fewer", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Hidden = []int{16} },
			want: "tensor layers.1.weight has shape [8 16], the model needs [10 16]"},
		{name: "a hidden layer more", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Hidden = []int{16, 8, 4} },
			want: "tensor layers.2.weight has shape [10 8], the model needs [4 8]"},
		{name: "fewer class names", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Classes = digits[:3] },
			want: "tensor layers.2.weight has shape [10 8], the model needs [3 8]"},
		{name: "no batch norm stated", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.BatchNorm = false },
			want: "tensor layers.0.bn.bias [16] is not part of the described model"},
		{name: "batch norm tensor missing", mod: func(c *checkpoint.Checkpoint) { drop(c, "layers.1.bn.running_var") },
			want: `checkpoint has no tensor "layers.1.bn.running_var"`},
		{name: "bias of another shape", mod: func(c *checkpoint.Checkpoint) { reshape(c, "layers.0.bias", []int{4, 4}) },
			want: "tensor layers.0.bias has shape [4 4], the model needs [16]"},
		{name: "extra layer tensor", mod: func(c *checkpoint.Checkpoint) {
			c.Tensors = append(c.Tensors, checkpoint.Tensor{Name: "layers.3.weight", Shape: []int{2, 10}, Data: make([]float32, 20)})
		}, want: "tensor layers.3.weight [2 10] is not part of the described model"},
		{name: "unknown activation", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Activation = "gelu" },
			want: `model description: model activation "gelu" is not one of`},
		{name: "one class", mod: func(c *checkpoint.Checkpoint) { c.Meta.Model.Classes = []string{"x"} },
			want: "model description: model classes 1 must be >= 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ck := saveLoad(t, base) // a fresh copy
			tc.mod(ck)
			_, err := FromCheckpoint(ck)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("FromCheckpoint error %v, want %q", err, tc.want)
			}
		})
	}

	// Optimizer state beside the model is not an extra tensor.
	ck := saveLoad(t, base)
	ck.Tensors = append(ck.Tensors, checkpoint.Tensor{Name: "optim.m.layers.0.weight", Shape: []int{16 * 784}, Data: make([]float32, 16*784)})
	if _, err := FromCheckpoint(ck); err != nil {
		t.Errorf("optimizer state refused: %v", err)
	}
}

func drop(c *checkpoint.Checkpoint, name string) {
	c.Tensors = slices.DeleteFunc(c.Tensors, func(t checkpoint.Tensor) bool { return t.Name == name })
}

func reshape(c *checkpoint.Checkpoint, name string, shape []int) {
	for i := range c.Tensors {
		if c.Tensors[i].Name == name {
			c.Tensors[i].Shape = shape
		}
	}
}

// TestEvaluateRefusesOtherGeometry checks that a data set of other images
// is refused instead of being cut to the model's input size.
func TestEvaluateRefusesOtherGeometry(t *testing.T) {
	m := greyModel(t)
	defer m.Close()
	g := data.Geometry{Height: 28, Width: 28, Channels: 3}
	ds := &data.Dataset{Geometry: g, Images: make([]byte, 2*g.Size()), Labels: []uint8{0, 1}, Classes: digits}
	_, err := m.Evaluate(context.Background(), ds, 3)
	if err == nil || !strings.Contains(err.Error(), "the data set's images are 28x28x3, the model takes 28x28x1") {
		t.Fatalf("Evaluate error %v", err)
	}
}

// TestNewRefusesDisagreement checks New's consistency checks.
func TestNewRefusesDisagreement(t *testing.T) {
	g := data.Geometry{Height: 2, Width: 2, Channels: 3}
	spec := model.Spec{Input: 12, Classes: 2, Activation: "relu", Init: "he"}
	p, err := model.NewParams(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	stats := data.Stats{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}
	tests := []struct {
		name    string
		g       data.Geometry
		stats   data.Stats
		classes []string
		want    string
	}{
		{name: "consistent", g: g, stats: stats, classes: []string{"a", "b"}},
		{name: "geometry of other size", g: data.Geometry{Height: 2, Width: 2, Channels: 1}, stats: data.Stats{Mean: []float32{0}, Std: []float32{1}}, classes: []string{"a", "b"},
			want: "model input is 12 values, its 2x2x1 images have 4"},
		{name: "normalization of one channel", g: g, stats: data.Stats{Mean: []float32{0}, Std: []float32{1}}, classes: []string{"a", "b"},
			want: "normalization of 1 channels for 2x2x3 images"},
		{name: "three class names", g: g, stats: stats, classes: []string{"a", "b", "c"}, want: "3 class names for a model of 2 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(spec, p, tc.g, tc.stats, tc.classes)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error %v, want %q", err, tc.want)
			}
		})
	}
}
