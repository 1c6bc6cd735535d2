package run

import (
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
)

// TestEarlyStoppingEndsTraining trains with a learning rate so small that
// validation accuracy cannot improve by min_delta, so training stops after
// 1+patience epochs, keeping best and last checkpoints.
func TestEarlyStoppingEndsTraining(t *testing.T) {
	dataDir := cifartest.Toy(t, 100, 20, 5)
	cfg := toyConfig(t, "train.epochs=10", "train.optimizer.lr=0.0000001",
		"train.early_stopping.enabled=true", "train.early_stopping.patience=2", "train.early_stopping.min_delta=0.5")
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Decode(b)
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
	if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	rep, err := report.Decode(b)
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

// TestValidationMetricsNeedValidationImages: a val_split so small that it
// leaves no validation image cannot drive early stopping (before, its
// validation metrics stayed 0 and still stopped the run).
func TestValidationMetricsNeedValidationImages(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	cfg := toyConfig(t, "data.val_split=0.001", "train.early_stopping.enabled=true")
	_, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: filepath.Join(t.TempDir(), "run"), Quiet: true})
	var cfgErr *config.Error
	if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "data.val_split: leaves no validation image of 60") {
		t.Fatalf("Train: %v, want a config error naming data.val_split", err)
	}
}
