package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as a config file to Load. Load must never
// panic, must report problems as *Error, and whatever it accepts must
// round-trip through YAML and Parse.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"",
		"name: mlp\nseed: 42\n",
		"train:\n  epochs: 3\n  optimizer:\n    lr: 0.1\n",
		"model:\n  hidden: [1, 2, 3]\n  activation: tanh\n",
		"a: &a [1, 2]\nb: *a\n",
		"model: {hidden: *x}\n",
		"train: [1\n",
		"- 1\n- 2\n",
		"seed: 1\n---\nseed: 2\n",
		"<<: {seed: 1}\n",
		"name: \"a\\nb\"\n",
		"train:\n  optimizer:\n    eps: .inf\n",
		"? [a]\n: 1\n",
		"model:\n  dropout: [0.1]\n  batch_norm: true\n",
		"data:\n  augment:\n    flip: yes\n    scale: [0.08, 1]\n",
		"train:\n  optimizer:\n    nesterov: true\n    momentum: 0\n",
	}
	if data, err := os.ReadFile(filepath.Join("..", "..", "configs", "mlp.yaml")); err == nil {
		seeds = append(seeds, string(data))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(LoadOptions{File: path})
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error %v (%T) is not a *config.Error", err, err)
			}
			return
		}
		out, err := cfg.YAML()
		if err != nil {
			t.Fatalf("YAML() = %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(YAML()) = %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, cfg) {
			t.Fatalf("round trip changed config:\n got %+v\nwant %+v", back, cfg)
		}
	})
}
