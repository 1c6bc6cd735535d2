package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// stepLosses records the running loss of every step.
type stepLosses struct {
	train.Hooks
	losses []float64
	last   float64
	prev   float64
	steps  int
}

func (s *stepLosses) Step(_ *train.Loop, ev train.StepEvent) error {
	// ev.Loss is the running mean; recover each step's own loss from it.
	s.steps++
	own := ev.Loss*float64(s.steps) - s.prev*float64(s.steps-1)
	s.prev = ev.Loss
	s.losses = append(s.losses, own)
	return nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestTrainOnRealCIFAR10 trains the reference model for one epoch (312
// steps of 128 images) on the real data and checks that the loss falls and
// validation and test accuracy rise well above chance (10%).
func TestTrainOnRealCIFAR10(t *testing.T) {
	dataDir := cifartest.Dir(t)
	model.UseThreads(0) // the CLI's compute path: lepton's kernels, all cores
	cfg, err := config.Load(config.LoadOptions{File: "../../configs/mlp.yaml", Sets: []string{"train.epochs=1"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &stepLosses{}
	var log bytes.Buffer
	dir, err := Train(context.Background(), Options{
		Config: cfg, DataDir: dataDir, OutDir: filepath.Join(t.TempDir(), "run"),
		Stderr: &log, Listeners: []train.Listener{rec},
	})
	if err != nil {
		t.Fatalf("train: %v\n%s", err, log.String())
	}
	if len(rec.losses) != 313 {
		t.Fatalf("%d steps, want 313 (40,000 images in batches of 128)", len(rec.losses))
	}
	first, last := mean(rec.losses[:20]), mean(rec.losses[len(rec.losses)-20:])
	t.Logf("loss: first 20 steps %.4f, last 20 steps %.4f", first, last)
	if last > first-0.3 {
		t.Errorf("loss did not fall: first 20 steps %.4f, last 20 %.4f", first, last)
	}
	b, err := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := report.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("val acc %.4f, test acc %.4f, %.1fs", rep.BestValAcc, rep.Test.Accuracy, rep.TrainSeconds)
	if rep.BestValAcc < 0.30 || rep.Test.Accuracy < 0.30 {
		t.Errorf("accuracy not well above chance: val %.4f, test %.4f", rep.BestValAcc, rep.Test.Accuracy)
	}
	if rep.TrainImages != 40000 || rep.ValImages != 10000 {
		t.Errorf("split %d/%d, want 40000/10000", rep.TrainImages, rep.ValImages)
	}
}
