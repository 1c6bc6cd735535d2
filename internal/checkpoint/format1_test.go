package checkpoint

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goldenV1Path is the golden file of format 1, written by the lepton of
// that format (commit 5533382) from the then sampleCheckpoint. It is never
// regenerated: it stands for the format 1 files users have.
const goldenV1Path = "testdata/golden-v1.safetensors"

var cifarClasses = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// TestLoadFormat1 reads the format 1 golden file: everything it stored
// comes back, and the model card is derived from its config (which, like
// configs of older leptons, lacks most keys), classes and normalization.
func TestLoadFormat1(t *testing.T) {
	c, err := Load(goldenV1Path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Meta.FormatVersion != 1 {
		t.Errorf("FormatVersion = %d, want 1", c.Meta.FormatVersion)
	}
	want := ModelCard{
		Architecture:  Architecture,
		Input:         Input{Height: 32, Width: 32, Channels: 3, Layout: LayoutCHW},
		Normalization: Normalization{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}},
		Hidden:        []int{3}, Activation: "relu", LeakySlope: 0.01, BNEps: 1e-5,
		Classes: cifarClasses,
		Data:    DataSource{Dataset: "cifar10"},
	}
	if !reflect.DeepEqual(c.Meta.Model, want) {
		t.Errorf("derived card = %+v\nwant %+v", c.Meta.Model, want)
	}
	if c.Meta.Epoch != 3 || c.Meta.Step != 1173 || c.Meta.Metrics["val_acc"] != 0.4321 || string(c.Meta.State) != `{"rng":[1,2,3],"lr":0.01}` {
		t.Errorf("meta = %+v, want epoch 3, step 1173, val_acc 0.4321 and the state", c.Meta)
	}
	if len(c.Tensors) != 5 {
		t.Errorf("%d tensors, want 5", len(c.Tensors))
	}

	// Saving it again writes the current format with the derived card.
	path := filepath.Join(t.TempDir(), "v2.safetensors")
	c.Meta.FormatVersion = 0
	if err := Save(path, c); err != nil {
		t.Fatalf("Save: %v", err)
	}
	c2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Meta.FormatVersion != FormatVersion || !reflect.DeepEqual(c2.Meta.Model, want) {
		t.Errorf("re-saved: version %d, card %+v", c2.Meta.FormatVersion, c2.Meta.Model)
	}
}

// TestCardFromFormat1 checks the lenient reading of format 1 configs: only
// the keys the card needs are read, missing ones take format 1's defaults,
// and unknown, renamed or mistyped other keys are ignored.
func TestCardFromFormat1(t *testing.T) {
	mean, std := []float32{0.5, 0.5, 0.5}, []float32{0.25, 0.25, 0.25}
	base := func(f func(*ModelCard)) ModelCard {
		c := ModelCard{Architecture: Architecture, Input: Input{Height: 32, Width: 32, Channels: 3, Layout: LayoutCHW},
			Normalization: Normalization{Mean: mean, Std: std}, Hidden: []int{128, 64, 32, 16}, Activation: "relu",
			LeakySlope: 0.01, BNEps: 1e-5, Classes: cifarClasses, Data: DataSource{Dataset: "cifar10"}}
		if f != nil {
			f(&c)
		}
		return c
	}
	tests := []struct {
		name    string
		config  string
		want    ModelCard
		wantErr string
	}{
		{name: "empty config: all defaults", config: "", want: base(nil)},
		{name: "every key", config: "name: x\ndata:\n  dir: /data/cifar\n  val_split: 0.1\nmodel:\n  input: 3072\n  hidden: [12, 8]\n  activation: leaky_relu\n  leaky_slope: 0.05\n  classes: 10\n  batch_norm: true\n  bn_eps: 0.001\n",
			want: base(func(c *ModelCard) {
				c.Hidden, c.Activation, c.LeakySlope, c.BatchNorm, c.BNEps = []int{12, 8}, "leaky_relu", 0.05, true, 0.001
				c.Data.Location = "/data/cifar"
			})},
		{name: "renamed, added and mistyped other keys are ignored",
			config: "model:\n  layers: [1, 2]\n  hidden: [7]\n  activation: tanh\n  input: many\n  new_option: {a: 1}\ntrain:\n  optimiser: lion\n  epochs: [1]\nfuture_section: 3\n",
			want:   base(func(c *ModelCard) { c.Hidden, c.Activation = []int{7}, "tanh" })},
		{name: "bn_eps 0 meant the default", config: "model:\n  batch_norm: true\n  bn_eps: 0\n", want: base(func(c *ModelCard) { c.BatchNorm = true })},
		{name: "no hidden layer", config: "model:\n  hidden: []\n", want: base(func(c *ModelCard) { c.Hidden = []int{} })},
		{name: "null values take defaults", config: "model:\n  hidden:\n  activation: ~\n", want: base(nil)},
		{name: "anchors and aliases", config: "sizes: &s [9, 9]\nmodel:\n  hidden: *s\n", want: base(func(c *ModelCard) { c.Hidden = []int{9, 9} })},
		{name: "model not a mapping", config: "model: 3\n", want: base(nil)},
		{name: "hidden of another type", config: "model:\n  hidden: wide\n", wantErr: "format 1 config: model.hidden: yaml: unmarshal errors"},
		{name: "negative hidden size", config: "model:\n  hidden: [4, -1]\n", wantErr: "format 1 metadata: model hidden[1] size -1 is out of range"},
		{name: "not YAML", config: "model: [\n", wantErr: "format 1 config: yaml:"},
		{name: "data set keys of the leptons that trained on other data in format 1",
			config: "seed: 5\ndata:\n  dataset: folder\n  dir: /photos\n  image_size: [24, 20]\n  channels: 1\n  resize: crop\n  test_split: 0.25\n  label: fine\n",
			want: base(func(c *ModelCard) {
				c.Input = Input{Height: 24, Width: 20, Channels: 1, Layout: LayoutCHW}
				c.Normalization = Normalization{Mean: mean[:1], Std: std[:1]}
				c.Data = DataSource{Dataset: "folder", Location: "/photos", Resize: "crop", TestSplit: 0.25, Seed: 5}
			})},
		{name: "CIFAR-100 with its defaults", config: "seed: 5\ndata:\n  dataset: cifar100\n  image_size: []\n  channels: 0\n  label: coarse\n  test_split: 0.2\n",
			want: base(func(c *ModelCard) { c.Data = DataSource{Dataset: "cifar100", Label: "coarse"} })},
		{name: "channels of another type", config: "data:\n  channels: grey\n", wantErr: "format 1 config: data.channels:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cardFromFormat1(tc.config, cifarClasses, mean, std)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("card = %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestLoadFormat1Crafted checks Load on format 1 metadata: a config
// today's validator would refuse still loads, and damaged format 1
// entries are reported as corrupt.
func TestLoadFormat1Crafted(t *testing.T) {
	good := []rawTensor{{name: "w", dtype: "F32", shape: []uint64{2}, offsets: [2]uint64{0, 8}}}
	data := make([]byte, 8)
	v1 := func(f func(map[string]string)) map[string]string {
		md := validMeta(t)
		delete(md, keyModel)
		md[keyFormatVersion] = "1"
		md[keyConfig] = "model:\n  hidden: [5]\n  renamed_key: 1\ntrain:\n  epochs: -3\n"
		md[keyClasses] = `["cat","dog"]`
		md[keyMean] = "[0.5,0.4,0.3]"
		md[keyStd] = "[0.2,0.2,0.2]"
		if f != nil {
			f(md)
		}
		return md
	}
	tests := []struct {
		name    string
		md      map[string]string
		wantMsg string
	}{
		{name: "config the validator refuses", md: v1(nil)},
		{name: "classes not JSON", md: v1(func(m map[string]string) { m[keyClasses] = "cat,dog" }), wantMsg: "decode classes metadata"},
		{name: "no classes", md: v1(func(m map[string]string) { m[keyClasses] = "[]" }), wantMsg: "model has no class names"},
		{name: "mean with two values", md: v1(func(m map[string]string) { m[keyMean] = "[0.5,0.5]" }), wantMsg: "mean metadata has 2 values, want 3"},
		{name: "std overflows float32", md: v1(func(m map[string]string) { m[keyStd] = "[1,1,1e39]" }), wantMsg: "decode std metadata"},
		{name: "std missing", md: v1(func(m map[string]string) { delete(m, keyStd) }), wantMsg: `missing "std" metadata`},
		{name: "config not YAML", md: v1(func(m map[string]string) { m[keyConfig] = "model: [" }), wantMsg: "format 1 config: yaml:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "v1.safetensors", craft(t, tc.md, good, data, true))
			c, err := Load(path)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := c.Meta.Model; got.Hidden[0] != 5 || got.Classes[1] != "dog" || got.Normalization.Mean[2] != 0.3 {
					t.Errorf("card %+v", got)
				}
				return
			}
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Load error %v, want ErrCorrupt with %q", err, tc.wantMsg)
			}
		})
	}
}
