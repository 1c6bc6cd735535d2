package run

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

func toyConfig(t *testing.T, sets ...string) *config.Config {
	t.Helper()
	base := []string{"name=toy", "seed=9", "model.hidden=[16,8]", "train.epochs=3", "train.batch_size=16", "train.optimizer.lr=0.003"}
	cfg, err := config.Load(config.LoadOptions{Sets: append(base, sets...)})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// stopAfter cancels training once GlobalStep reaches n.
type stopAfter struct {
	train.Hooks
	n      int64
	cancel context.CancelFunc
}

func (s *stopAfter) Step(_ *train.Loop, ev train.StepEvent) error {
	if ev.GlobalStep == s.n {
		s.cancel()
	}
	return nil
}

// runFiles returns the bytes of a run's checkpoints and its metrics.csv
// without the wall-clock seconds column.
func runFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{rundir.Last(dir), rundir.Best(dir)} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	csv, err := os.ReadFile(filepath.Join(dir, rundir.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(string(csv)), "\n") {
		rows = append(rows, line[:strings.LastIndex(line, ",")])
	}
	out["metrics.csv"] = []byte(strings.Join(rows, "\n"))
	return out
}

// TestResumeIsBitIdentical trains uninterrupted, then for several k stops
// after k steps (as Ctrl-C does), resumes, and compares the final
// checkpoints and metrics byte for byte. 160 training images in batches of
// 16 make 8 steps per epoch and 24 steps in all.
func TestResumeIsBitIdentical(t *testing.T) {
	dataDir := cifartest.Toy(t, 200, 50, 5)
	// The uninterrupted reference for each checkpoint_every value (the
	// value is part of the config stored in the checkpoints).
	refs := map[string]map[string][]byte{}
	reference := func(sets []string) map[string][]byte {
		key := strings.Join(sets, " ")
		if r, ok := refs[key]; ok {
			return r
		}
		dir := filepath.Join(t.TempDir(), "full")
		if _, err := Train(context.Background(), Options{Config: toyConfig(t, sets...), DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		refs[key] = runFiles(t, dir)
		return refs[key]
	}
	plain := []string{"train.checkpoint_every=0"}
	want := reference(plain)

	// Determinism: a second uninterrupted run writes the same bytes.
	again := filepath.Join(t.TempDir(), "again")
	if _, err := Train(context.Background(), Options{Config: toyConfig(t), DataDir: dataDir, OutDir: again, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	for name, b := range runFiles(t, again) {
		if !bytes.Equal(b, want[name]) {
			t.Fatalf("two runs of the same config differ in %s", name)
		}
	}

	// Every training control with state or randomness at once.
	controls := []string{"data.augment.flip=true", "data.augment.crop=true", "data.augment.scale=[0.7,1]",
		"model.dropout=0.2", "model.batch_norm=true", "train.optimizer.name=adamw", "train.optimizer.weight_decay=0.01",
		"train.grad_clip=1", "train.label_smoothing=0.1", "train.schedule.name=cosine", "train.schedule.warmup_epochs=1",
		"train.early_stopping.enabled=true", "train.early_stopping.patience=2", "train.early_stopping.monitor=val_loss"}
	if bytes.Equal(reference(controls)["last.safetensors"], want["last.safetensors"]) {
		t.Fatal("the training controls changed nothing")
	}
	tests := []struct {
		name string
		k    int64
		sets []string
	}{
		{name: "first step", k: 1, sets: plain},
		{name: "mid first epoch", k: 5, sets: plain},
		{name: "exactly at an epoch end", k: 8, sets: plain},
		{name: "mid second epoch", k: 11, sets: plain},
		{name: "exactly at the second epoch end", k: 16, sets: plain},
		{name: "one step before the end", k: 23, sets: plain},
		{name: "mid epoch with checkpoint_every", k: 13, sets: []string{"train.checkpoint_every=3"}},
		{name: "all training controls, mid epoch", k: 10, sets: controls},
		{name: "all training controls, epoch end", k: 16, sets: controls},
		{name: "plateau schedule and sgd nesterov", k: 12, sets: []string{"train.schedule.name=plateau", "train.schedule.patience=0",
			"train.optimizer.name=sgd", "train.optimizer.nesterov=true", "train.optimizer.lr=0.01"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			sets := tc.sets
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := Train(ctx, Options{Config: toyConfig(t, sets...), DataDir: dataDir, OutDir: dir, Quiet: true,
				Listeners: []train.Listener{&stopAfter{n: tc.k, cancel: cancel}}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run returned %v, want context.Canceled", err)
			}
			if got := rundir.Status(dir); got != report.StatusInterrupted {
				t.Fatalf("report status %q, want interrupted", got)
			}
			if _, err := Train(context.Background(), Options{Config: toyConfig(t, sets...), DataDir: dataDir, Resume: dir, Quiet: true}); err != nil {
				t.Fatalf("resume: %v", err)
			}
			if !rundir.Finished(dir) {
				t.Fatal("resumed run not finished")
			}
			got, want := runFiles(t, dir), reference(tc.sets)
			for _, name := range []string{"last.safetensors", "best.safetensors", "metrics.csv"} {
				if !bytes.Equal(got[name], want[name]) {
					t.Errorf("%s after resume at step %d differs from the uninterrupted run's", name, tc.k)
				}
			}
		})
	}
}

func TestResumeRefusesIncompatibleConfig(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	dir := filepath.Join(t.TempDir(), "run")
	cfg := toyConfig(t, "train.epochs=1")
	if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	other := toyConfig(t, "train.epochs=2", "model.hidden=[32,8]", "train.optimizer.lr=0.01")
	_, err := Train(context.Background(), Options{Config: other, DataDir: dataDir, Resume: dir, Quiet: true})
	if !errors.Is(err, ErrIncompatible) {
		t.Fatalf("resume with other layers: %v, want ErrIncompatible", err)
	}
	for _, want := range []string{"model.hidden: [16, 8] in the checkpoint, [32, 8] now", "train.optimizer.lr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not list %q", err, want)
		}
	}
	// More epochs alone is fine: the run continues.
	more := toyConfig(t, "train.epochs=2")
	if _, err := Train(context.Background(), Options{Config: more, DataDir: dataDir, Resume: dir, Quiet: true}); err != nil {
		t.Fatalf("resume with more epochs: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	rep, err := report.Decode(b)
	if err != nil || rep.Epochs != 2 {
		t.Fatalf("report after extending: %+v, %v", rep, err)
	}
}
