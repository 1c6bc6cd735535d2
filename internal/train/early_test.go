package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/rundir"
)

func TestEarlyStoppingObserve(t *testing.T) {
	tests := []struct {
		name    string
		monitor string
		delta   float64
		values  []float64
		stopAt  int // index of the value after which Observe says stop; -1 never
	}{
		{name: "accuracy improving", monitor: "val_acc", values: []float64{0.1, 0.2, 0.3, 0.4}, stopAt: -1},
		{name: "accuracy flat", monitor: "val_acc", values: []float64{0.5, 0.5, 0.5}, stopAt: 2},
		{name: "loss falling", monitor: "val_loss", values: []float64{2, 1.5, 1.2, 1.1}, stopAt: -1},
		{name: "loss rising", monitor: "val_loss", values: []float64{1, 1.2, 1.3}, stopAt: 2},
		{name: "gains below min_delta", monitor: "val_acc", delta: 0.05, values: []float64{0.5, 0.52, 0.54}, stopAt: 2},
		{name: "recovery resets patience", monitor: "val_acc", values: []float64{0.5, 0.4, 0.6, 0.5, 0.5}, stopAt: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &EarlyStopping{Monitor: tc.monitor, Patience: 2, MinDelta: tc.delta}
			got := -1
			for i, v := range tc.values {
				if e.Observe(v) {
					got = i
					break
				}
			}
			if got != tc.stopAt {
				t.Fatalf("stopped after value %d, want %d", got, tc.stopAt)
			}
		})
	}
}

// TestEarlyStoppingEndsTraining trains with a learning rate so small that
// validation accuracy cannot improve by min_delta, so training stops after
// 1+patience epochs, keeping best and last checkpoints.
func TestEarlyStoppingEndsTraining(t *testing.T) {
	dataDir := cifartest.Toy(t, 100, 20, 5)
	cfg := toyConfig(t, "train.epochs=10", "train.optimizer.lr=0.0000001",
		"train.early_stopping.enabled=true", "train.early_stopping.patience=2", "train.early_stopping.min_delta=0.5")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ReadReport(b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Epochs != 3 || !rep.StoppedEarly || rep.BestEpoch != 1 {
		t.Fatalf("epochs %d, stopped early %v, best epoch %d; want 3, true, 1", rep.Epochs, rep.StoppedEarly, rep.BestEpoch)
	}
	for _, p := range []string{rundir.Best(dir), rundir.Last(dir)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("missing %s: %v", p, err)
		}
	}
}

// TestScheduleLoggedPerEpoch checks that metrics.csv's lr column is the
// learning rate in force: a step schedule halving it every epoch.
func TestScheduleLoggedPerEpoch(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	cfg := toyConfig(t, "train.schedule.name=step", "train.schedule.step_epochs=1", "train.schedule.gamma=0.5")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Run(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	rep, err := ReadReport(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.003, 0.0015, 0.00075}
	for i, m := range rep.History {
		if d := m.LR - want[i]; d > 1e-12 || d < -1e-12 {
			t.Errorf("epoch %d lr %v, want %v", m.Epoch, m.LR, want[i])
		}
	}
}
