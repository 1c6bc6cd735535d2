package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/config"
)

// baseConfig is a small valid base config.
const baseConfig = "name: toy\nmodel:\n  hidden: [8]\ntrain:\n  epochs: 1\n"

// writeSweep writes a base config and a sweep file (body, whose base is
// base.yaml) to a temporary directory and returns the sweep file's path.
func writeSweep(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(baseConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseAcceptsTheIssueExample(t *testing.T) {
	path := writeSweep(t, `base: base.yaml
set: {train.epochs: 1}
method: grid
parameters:
  train.optimizer.lr: {values: [0.001, 0.003]}
  model.hidden: {values: [[128, 64, 32, 16], [256, 128]]}
metric: val_acc
goal: maximize
`)
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &File{
		Path: path, Base: filepath.Join(filepath.Dir(path), "base.yaml"),
		Set:    []Setting{{"train.epochs", "1"}},
		Method: "grid",
		Parameters: []Parameter{
			{Key: "train.optimizer.lr", Values: []string{"0.001", "0.003"}},
			{Key: "model.hidden", Values: []string{"[128, 64, 32, 16]", "[256, 128]"}},
		},
		Metric: "val_acc", Goal: "maximize",
		Resources:  Resources{CPUs: 1, Memory: "4G", Time: "1:00:00"},
		Kubernetes: Kubernetes{VolumeClaim: "lepton-sweeps"},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got  %+v\nwant %+v", f, want)
	}
}

// TestParseRefusesBadSweepFiles: every problem is a *config.Error naming
// the sweep file and the key.
func TestParseRefusesBadSweepFiles(t *testing.T) {
	const params = "parameters:\n  train.optimizer.lr: {values: [0.1]}\n"
	tests := []struct {
		name, body, want string
	}{
		{"range min > max", "base: base.yaml\nmethod: random\ntrials: 2\nparameters:\n  train.optimizer.lr: {min: 0.1, max: 0.01}\n",
			"parameters.train.optimizer.lr: range min 0.1 > max 0.01"},
		{"log range from zero", "base: base.yaml\nmethod: random\ntrials: 2\nparameters:\n  train.optimizer.lr: {min: 0, max: 0.1, log: true}\n",
			"parameters.train.optimizer.lr: a log range needs min > 0"},
		{"int range of floats", "base: base.yaml\nmethod: random\ntrials: 2\nparameters:\n  train.batch_size: {min: 8.5, max: 64, int: true}\n",
			"parameters.train.batch_size: an int range needs integer min and max"},
		{"range without max", "base: base.yaml\nmethod: random\ntrials: 2\nparameters:\n  train.optimizer.lr: {min: 0.1}\n",
			"parameters.train.optimizer.lr: want {values: [...]} or a range with both min and max"},
		{"values and range", "base: base.yaml\nmethod: random\ntrials: 2\nparameters:\n  train.optimizer.lr: {values: [1], min: 0.1, max: 1}\n",
			"parameters.train.optimizer.lr: give either values or a range"},
		{"range in a grid", "base: base.yaml\nparameters:\n  train.optimizer.lr: {min: 0.01, max: 0.1}\n",
			"parameters.train.optimizer.lr: a range needs method random"},
		{"empty values", "base: base.yaml\nparameters:\n  train.optimizer.lr: {values: []}\n",
			"parameters.train.optimizer.lr.values: want a non-empty list"},
		{"unknown range field", "base: base.yaml\nmethod: random\ntrials: 1\nparameters:\n  train.optimizer.lr: {min: 0.01, max: 0.1, steps: 3}\n",
			"parameters.train.optimizer.lr.steps: unknown key (want one of int, log, max, min, values)"},
		{"unknown top-level key", "base: base.yaml\nmetod: grid\n" + params, "metod: unknown key"},
		{"no base", params, "base: missing"},
		{"no parameters", "base: base.yaml\n", "parameters: missing"},
		{"bad method", "base: base.yaml\nmethod: bayes\n" + params, `method: must be one of grid, random, got "bayes"`},
		{"trials in a grid", "base: base.yaml\ntrials: 3\n" + params, "trials: applies to method random only"},
		{"random without trials", "base: base.yaml\nmethod: random\n" + params, "trials: method random needs trials between 1 and 1000, got 0"},
		{"bad metric", "base: base.yaml\nmetric: accuracy\n" + params, `metric: must be one of val_acc, val_loss, test_acc, got "accuracy"`},
		{"bad goal", "base: base.yaml\ngoal: max\n" + params, `goal: must be one of maximize, minimize, got "max"`},
		{"seed not a number", "base: base.yaml\nseed: abc\n" + params, `seed: want a non-negative integer, got "abc"`},
		{"bad memory", "base: base.yaml\nresources: {memory: 4GB}\n" + params, `resources.memory: want a size like 4G`},
		{"bad time", "base: base.yaml\nresources: {time: 1h}\n" + params, `resources.time: want a Slurm time`},
		{"partition with a space", "base: base.yaml\nslurm: {partition: a b}\n" + params, `slurm.partition: want a name`},
		{"duplicate parameter", "base: base.yaml\nparameters:\n  seed: {values: [1]}\n  seed: {values: [2]}\n", "parameters.seed: duplicate key"},
		{"set not a mapping", "base: base.yaml\nset: [a]\n" + params, "set: want a mapping of config keys to values"},
		{"not YAML", "base: [\n", "invalid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSweep(t, tc.body)
			_, err := Load(path)
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *config.Error", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q, want it to start with %q and hold %q", msg, path+": ", tc.want)
			}
		})
	}
}

// TestSweepYAMLRoundTrips: the sweep.yaml written into a sweep directory
// reads back to the same sweep.
func TestSweepYAMLRoundTrips(t *testing.T) {
	path := writeSweep(t, `base: base.yaml
set:
  train: {epochs: 2}
  data.val_split: 0.5
  name: "yes"
method: random
trials: 5
seed: 9
parameters:
  train.optimizer.lr: {min: 1e-4, max: 0.1, log: true}
  train.batch_size: {min: 16, max: 256, int: true}
  model.hidden: {values: [[16], [32, 16]]}
  model.activation: {values: [relu, tanh]}
metric: val_loss
resources: {cpus: 2, memory: 512M, time: "2-00:00:00"}
slurm: {partition: gpu, account: lab}
kubernetes: {namespace: ml, volume_claim: runs}
`)
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Goal != "minimize" {
		t.Errorf("goal of val_loss defaults to %q, want minimize", f.Goal)
	}
	again := filepath.Join(t.TempDir(), SweepFile)
	if err := os.WriteFile(again, f.YAML(5), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := Load(again)
	if err != nil {
		t.Fatalf("sweep.yaml does not read back: %v\n%s", err, f.YAML(5))
	}
	g.Path = f.Path
	if !reflect.DeepEqual(f, g) {
		t.Fatalf("round trip changed the sweep:\n got %+v\nwant %+v\n%s", g, f, f.YAML(5))
	}
}
