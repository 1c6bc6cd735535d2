package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/rundir"
)

const gridBody = `base: base.yaml
parameters:
  train.optimizer.lr: {values: [0.001, 0.003]}
  seed: {values: [1, 2]}
`

func resolve(t *testing.T, path string) (*File, []Trial) {
	t.Helper()
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := f.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return f, trials
}

// TestPrepareWritesOneConfigPerTrialAndKeepsThemOnRerun: the sweep
// directory holds sweep.yaml and trials/NNN/config.yaml; preparing it again
// for the same sweep keeps the trials (a run may have rewritten
// train.threads), another sweep is refused naming the trial and key.
func TestPrepareWritesOneConfigPerTrialAndKeepsThemOnRerun(t *testing.T) {
	path := writeSweep(t, gridBody)
	f, trials := resolve(t, path)
	dir := filepath.Join(t.TempDir(), "sweep")
	if err := Prepare(dir, f, trials); err != nil {
		t.Fatal(err)
	}
	idx, err := ListTrials(dir)
	if err != nil || len(idx) != 4 || idx[3] != 3 {
		t.Fatalf("trials %v, %v", idx, err)
	}
	cfg, _ := os.ReadFile(filepath.Join(TrialDir(dir, 2), rundir.ConfigFile))
	if !strings.Contains(string(cfg), "lr: 0.003") || !strings.Contains(string(cfg), "seed: 1\n") {
		t.Errorf("trial 002's config.yaml:\n%s", cfg)
	}
	if g, err := Open(dir); err != nil || g.Metric != "val_acc" || len(g.Parameters) != 2 {
		t.Fatalf("sweep.yaml reads back as %+v, %v", g, err)
	}

	// A trial that ran has train.threads in its config.yaml: still the same sweep.
	y := strings.Replace(string(cfg), "threads: 0", "threads: 2", 1)
	os.WriteFile(filepath.Join(TrialDir(dir, 2), rundir.ConfigFile), []byte(y), 0o644)
	if err := Prepare(dir, f, trials); err != nil {
		t.Fatalf("re-run refused: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(TrialDir(dir, 2), rundir.ConfigFile)); string(b) != y {
		t.Error("re-run rewrote a trial's config.yaml")
	}

	other := writeSweep(t, strings.Replace(gridBody, "0.003", "0.01", 1))
	f2, trials2 := resolve(t, other)
	err = Prepare(dir, f2, trials2)
	if !errors.Is(err, ErrOtherSweep) || !errors.Is(err, rundir.ErrExists) ||
		!strings.Contains(err.Error(), "trial 002") || !strings.Contains(err.Error(), "train.optimizer.lr: 0.003 there, 0.01 now") {
		t.Fatalf("another sweep in the same directory: %v", err)
	}

	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "notes.txt"), []byte("mine"), 0o644)
	if err := Prepare(busy, f, trials); !errors.Is(err, rundir.ErrExists) {
		t.Fatalf("non-empty directory without sweep.yaml: %v", err)
	}
}

// TestRandomSweepGrowsInPlace: more random trials with the same seed keep
// the first ones, so the same directory continues.
func TestRandomSweepGrowsInPlace(t *testing.T) {
	body := "base: base.yaml\nmethod: random\ntrials: %d\nseed: 4\nparameters:\n  train.optimizer.lr: {min: 0.0001, max: 0.1, log: true}\n"
	dir := filepath.Join(t.TempDir(), "sweep")
	f, trials := resolve(t, writeSweep(t, strings.Replace(body, "%d", "3", 1)))
	if err := Prepare(dir, f, trials); err != nil {
		t.Fatal(err)
	}
	f, trials = resolve(t, writeSweep(t, strings.Replace(body, "%d", "5", 1)))
	if err := Prepare(dir, f, trials); err != nil {
		t.Fatalf("growing the sweep: %v", err)
	}
	if idx, _ := ListTrials(dir); len(idx) != 5 {
		t.Fatalf("trials %v, want 5", idx)
	}
}
