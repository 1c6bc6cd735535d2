package config

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	c := Default()
	c.Data.Dir = "/tmp/a b: c"
	c.Output.Dir = "yes"
	c.Model.Dropout = []float64{0.5, 0.25}
	c.Model.BatchNorm = true
	c.Train.Optimizer.WeightDecay = math.Copysign(0, -1) // shows as 0
	tests := []struct {
		key  string
		want string
	}{
		{key: "name", want: "lepton"},
		{key: "seed", want: "42"},
		{key: "data.dir", want: `"/tmp/a b: c"`},
		{key: "data.val_split", want: "0.2"},
		{key: "data.augment.flip", want: "false"},
		{key: "data.augment.scale", want: "[]"},
		{key: "data.augment.ratio", want: "[0.75, 1.3333333333333333]"},
		{key: "model.hidden", want: "[128, 64, 32, 16]"},
		{key: "model.dropout", want: "[0.5, 0.25]"},
		{key: "model.batch_norm", want: "true"},
		{key: "model.bn_eps", want: "1e-05"},
		{key: "train.optimizer.eps", want: "1e-08"},
		{key: "train.optimizer.weight_decay", want: "0"},
		{key: "train.schedule.name", want: "constant"},
		{key: "train.schedule.final_div_factor", want: "10000"},
		{key: "train.early_stopping.restore_best", want: "true"},
		{key: "output.dir", want: `"yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := c.Get(tt.key)
			if !ok || got != tt.want {
				t.Fatalf("Get(%q) = %q, %v; want %q, true", tt.key, got, ok, tt.want)
			}
		})
	}
	for _, key := range []string{"", "train", "train.optimizer", "train.epoch", "Seed", "model.hidden.0"} {
		if got, ok := c.Get(key); ok {
			t.Errorf("Get(%q) = %q, true; want false", key, got)
		}
	}
}

// TestGetMatchesReference checks Get on the defaults shows every key's
// default as Reference does, and that each value reads back as a --set to
// the same value.
func TestGetMatchesReference(t *testing.T) {
	c := Default()
	c.Name = ""
	for _, kd := range Reference() {
		got, ok := c.Get(kd.Key)
		if !ok || got != kd.Default {
			t.Errorf("Get(%q) = %q, %v; want Reference default %q", kd.Key, got, ok, kd.Default)
		}
	}
	odd := []string{
		"name=a #b", "name=- x", "name=null", "name=true", "name=1e3", "name=&a", "name=!x", "name= lead",
		"data.dir=it's", `data.dir="quoted"`, "data.dir=tab\there", "data.dir=back\\slash", "output.dir=[x]",
		"output.dir=ünïcode", "output.dir=a\u2028b",
	}
	for _, set := range odd {
		cfg, err := Load(LoadOptions{Sets: []string{set}})
		if err != nil {
			t.Fatalf("Load(--set %s) = %v", set, err)
		}
		for _, key := range []string{"name", "data.dir", "output.dir"} {
			val, _ := cfg.Get(key)
			back, err := Load(LoadOptions{Sets: []string{set, key + "=" + val}})
			if err != nil {
				t.Fatalf("--set %s=%s (from Get): %v", key, val, err)
			}
			if !reflect.DeepEqual(back, cfg) {
				t.Errorf("--set %s=%s (from Get after --set %s) changed the config", key, val, set)
			}
			// The value is also YAML for the key in a config file.
			doc := key + ": " + val + "\n"
			if section, name, ok := strings.Cut(key, "."); ok {
				doc = section + ":\n  " + name + ": " + val + "\n"
			}
			parsed, err := Parse([]byte(doc))
			if err != nil {
				t.Fatalf("Parse(%q) = %v", doc, err)
			}
			if got, _ := parsed.Get(key); got != val {
				t.Errorf("Parse(%q) gives %s = %s", doc, key, got)
			}
		}
	}
}

func TestDiff(t *testing.T) {
	base := Default()
	if d := Diff(&base, &base); d != nil {
		t.Fatalf("Diff(c, c) = %v, want nil", d)
	}
	other := Default()
	other.Model.Hidden = nil // nil and empty lists compare equal
	other.Model.Dropout = nil
	empty := Default()
	empty.Model.Hidden = []int{}
	if d := Diff(&other, &empty); d != nil {
		t.Fatalf("Diff(nil lists, empty lists) = %v, want nil", d)
	}

	b := Default()
	b.Name = "other"
	b.Data.Augment.Flip = true
	b.Model.Hidden = []int{256, 128}
	b.Model.Dropout = []float64{0.5}
	b.Train.Optimizer.Name = "sgd"
	b.Train.Optimizer.LR = 0.1
	b.Train.Schedule.Name = "cosine"
	b.Train.EarlyStopping.RestoreBest = false
	b.Output.Dir = "no"
	want := []KeyDiff{
		{Key: "name", A: "lepton", B: "other"},
		{Key: "data.augment.flip", A: "false", B: "true"},
		{Key: "model.hidden", A: "[128, 64, 32, 16]", B: "[256, 128]"},
		{Key: "model.dropout", A: "[]", B: "[0.5]"},
		{Key: "train.optimizer.name", A: "adam", B: "sgd"},
		{Key: "train.optimizer.lr", A: "0.001", B: "0.1"},
		{Key: "train.schedule.name", A: "constant", B: "cosine"},
		{Key: "train.early_stopping.restore_best", A: "true", B: "false"},
		{Key: "output.dir", A: "runs", B: `"no"`},
	}
	if got := Diff(&base, &b); !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff() =\n%v\nwant\n%v", got, want)
	}
	// Swapping the arguments swaps A and B.
	got := Diff(&b, &base)
	for i := range want {
		want[i].A, want[i].B = want[i].B, want[i].A
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff(b, a) =\n%v\nwant\n%v", got, want)
	}
}

// TestDiffResolved compares configs as resolved from different sources.
func TestDiffResolved(t *testing.T) {
	a, err := Load(LoadOptions{Sets: []string{"model.hidden=[10, 10]", "model.dropout=0.1,0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	y, err := a.YAML()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(y)
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(a, b); d != nil {
		t.Fatalf("Diff(config, Parse(config.YAML())) = %v, want nil", d)
	}
	c, err := Load(LoadOptions{Sets: []string{"model.hidden=10,10", "model.dropout=[0.1, 0.3]", "train.grad_clip=1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []KeyDiff{
		{Key: "model.dropout", A: "[0.1, 0.2]", B: "[0.1, 0.3]"},
		{Key: "train.grad_clip", A: "0", B: "1"},
	}
	if got := Diff(a, c); !reflect.DeepEqual(got, want) {
		t.Fatalf("Diff() = %v, want %v", got, want)
	}
}

// laterKeys are the keys added after configs/mlp.yaml was frozen as the
// reference model (the data set keys); it leaves them at their defaults.
var laterKeys = map[string]bool{
	"data.dataset": true, "data.label": true, "data.image_size": true, "data.channels": true,
	"data.resize": true, "data.test_split": true, "data.on_error": true,
}

// TestReferenceModelSpellsOutEveryKey checks configs/mlp.yaml lists every
// key, in schema order, as its header comment promises (but laterKeys).
func TestReferenceModelSpellsOutEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "mlp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	settings, errs := parseDocument(data, "mlp.yaml")
	if err := join(errs, "mlp.yaml"); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, s := range settings {
		got = append(got, s.key)
	}
	for _, s := range keys {
		if !laterKeys[s.key] {
			want = append(want, s.key)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("configs/mlp.yaml keys\n%v\nwant\n%v", got, want)
	}
}
