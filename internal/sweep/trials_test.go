package sweep

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/config"
)

func TestGridHasEveryCombinationLastKeyFastest(t *testing.T) {
	f, err := Load(writeSweep(t, `base: base.yaml
set: {train.epochs: 2, name: grid}
parameters:
  train.optimizer.lr: {values: [0.001, 0.003]}
  model.hidden: {values: [[128, 64, 32, 16], [256, 128]]}
  model.activation: {values: [relu]}
`))
	if err != nil {
		t.Fatal(err)
	}
	trials, err := f.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		lr     float64
		hidden []int
	}{{0.001, []int{128, 64, 32, 16}}, {0.001, []int{256, 128}}, {0.003, []int{128, 64, 32, 16}}, {0.003, []int{256, 128}}}
	if len(trials) != len(want) {
		t.Fatalf("%d trials, want %d", len(trials), len(want))
	}
	for i, w := range want {
		c := trials[i].Config
		if trials[i].Index != i || c.Train.Optimizer.LR != w.lr || !reflect.DeepEqual(c.Model.Hidden, w.hidden) {
			t.Errorf("trial %d: index %d lr %v hidden %v, want lr %v hidden %v", i, trials[i].Index, c.Train.Optimizer.LR, c.Model.Hidden, w.lr, w.hidden)
		}
		if c.Train.Epochs != 2 || c.Name != "grid" {
			t.Errorf("trial %d: set not applied: epochs %d name %q", i, c.Train.Epochs, c.Name)
		}
	}
	if got := trials[1].Describe(); got != "train.optimizer.lr=0.001 model.hidden=[256, 128] model.activation=relu" {
		t.Errorf("Describe: %q", got)
	}
}

// TestRandomTrialsFollowTheSeed: the same seed draws the same trials, all
// inside their ranges; another seed draws others.
func TestRandomTrialsFollowTheSeed(t *testing.T) {
	body := func(seed int) string {
		return `base: base.yaml
method: random
trials: 40
seed: ` + strconv.Itoa(seed) + `
parameters:
  train.optimizer.lr: {min: 0.0001, max: 0.1, log: true}
  train.batch_size: {min: 16, max: 256, int: true, log: true}
  train.optimizer.weight_decay: {min: 0, max: 0.01}
  data.workers: {min: 1, max: 3, int: true}
  model.hidden: {values: [[16], [32, 16]]}
`
	}
	draw := func(seed int) []string {
		f, err := Load(writeSweep(t, body(seed)))
		if err != nil {
			t.Fatal(err)
		}
		trials, err := f.Resolve()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		workers := map[int]bool{}
		for _, tr := range trials {
			c := tr.Config
			if lr := c.Train.Optimizer.LR; lr < 0.0001 || lr > 0.1 {
				t.Errorf("trial %d: lr %v outside [1e-4, 0.1]", tr.Index, lr)
			}
			if lr := c.Train.Optimizer.LR; strconv.FormatFloat(lr, 'g', 4, 64) != strconv.FormatFloat(lr, 'g', -1, 64) {
				t.Errorf("trial %d: lr %v has more than 4 significant digits", tr.Index, lr)
			}
			if bs := c.Train.BatchSize; bs < 16 || bs > 256 {
				t.Errorf("trial %d: batch size %d outside [16, 256]", tr.Index, bs)
			}
			if wd := c.Train.Optimizer.WeightDecay; wd < 0 || wd > 0.01 {
				t.Errorf("trial %d: weight decay %v outside [0, 0.01]", tr.Index, wd)
			}
			workers[c.Data.Workers] = true
			out = append(out, tr.Describe())
		}
		if len(workers) != 3 {
			t.Errorf("data.workers in [1, 3] drew %v in 40 trials, want all of 1, 2, 3", workers)
		}
		return out
	}
	a, b, c := draw(1), draw(1), draw(2)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("seed 1 drew different trials:\n%v\n%v", a, b)
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 1 and 2 drew the same trials")
	}
}

// TestResolveRefusesABadTrial: one bad trial refuses the whole sweep with a
// *config.Error naming the sweep file, the trial and the key.
func TestResolveRefusesABadTrial(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown key in the parameters", "base: base.yaml\nparameters:\n  train.optimizr.lr: {values: [0.1]}\n",
			"trial 000 (train.optimizr.lr=0.1): train.optimizr.lr: unknown key (did you mean train.optimizer.lr?)"},
		{"unknown key in set", "base: base.yaml\nset: {train.epoch: 3}\nparameters:\n  seed: {values: [1, 2]}\n",
			"trial 000 (seed=1): train.epoch: unknown key (did you mean train.epochs?)"},
		{"invalid value in one trial", "base: base.yaml\nparameters:\n  train.optimizer.lr: {values: [0.1, 0.01, -1]}\n",
			"trial 002 (train.optimizer.lr=-1): train.optimizer.lr: must be > 0, got -1"},
		{"wrong type in one trial", "base: base.yaml\nparameters:\n  model.hidden: {values: [[8], [a]]}\n",
			`trial 001 (model.hidden=[a]): model.hidden: want a list of integers, got ["a"]`},
		{"conflict between keys in one trial", "base: base.yaml\nset: {model.dropout: [0.1, 0.2]}\nparameters:\n  model.hidden: {values: [[8, 4], [8]]}\n",
			"trial 001 (model.hidden=[8]): model.dropout: has 2 values but model.hidden has 1 layer"},
		{"float range for an int key", "base: base.yaml\nmethod: random\ntrials: 2\nparameters:\n  train.batch_size: {min: 16, max: 64}\n",
			": train.batch_size: want an integer, got "},
		{"missing base", "base: nowhere.yaml\nparameters:\n  seed: {values: [1]}\n", "base: open base config "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSweep(t, tc.body)
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Resolve()
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want a *config.Error", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q\nwant it to start with the sweep file and hold %q", msg, tc.want)
			}
		})
	}
}
