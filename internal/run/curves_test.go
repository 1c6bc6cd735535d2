package run

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// TestCurvesRecordSteps checks the per-step records of a short run: one
// per optimizer step, whose batch losses average (by batch size) to the
// epoch's training loss and whose learning rates follow the schedule; a
// run interrupted mid-epoch and resumed records the same steps; a run of
// more than train.StepEpochs epochs records none.
func TestCurvesRecordSteps(t *testing.T) {
	dataDir := cifartest.Toy(t, 200, 50, 5)
	sets := []string{"train.schedule.name=cosine", "train.schedule.warmup_epochs=1"}
	dir := filepath.Join(t.TempDir(), "full")
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, sets...), DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	recs, err := train.ReadSteps(filepath.Join(dir, rundir.StepsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 30 { // 160 training images in batches of 16, 3 epochs
		t.Fatalf("%d step records, want 30", len(recs))
	}
	hist, err := train.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if r.Step != int64(i+1) || r.Epoch != i/10+1 || r.EpochStep != i%10+1 || r.EpochSteps != 10 {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	for e := 1; e <= 3; e++ {
		sum := 0.0
		for _, r := range recs[(e-1)*10 : e*10] {
			sum += r.Loss * 16 // every batch holds 16 images
		}
		if got, want := sum/160, hist[e-1].TrainLoss; math.Abs(got-want) > 1e-6*want {
			t.Errorf("epoch %d: step losses average %v, metrics.csv train_loss %v", e, got, want)
		}
		if last := recs[e*10-1].LR; last != hist[e-1].LR {
			t.Errorf("epoch %d: last step's LR %v, metrics.csv %v", e, last, hist[e-1].LR)
		}
	}
	if recs[0].LR >= recs[9].LR || recs[10].LR <= recs[29].LR {
		t.Errorf("learning rates %v ... do not warm up then decay", recs)
	}
	want, _ := os.ReadFile(filepath.Join(dir, rundir.StepsFile))

	// Interrupted mid-epoch, resumed: the same records.
	run := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = Train(ctx, Options{Config: toyConfig(t, sets...), DataDir: dataDir, OutDir: run, Quiet: true,
		Listeners: []train.Listener{&stopAfter{n: 11, cancel: cancel}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, sets...), DataDir: dataDir, Resume: run, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(run, rundir.StepsFile)); !bytes.Equal(got, want) {
		t.Errorf("steps.csv after resume at step 11:\n%s\nwant\n%s", got, want)
	}

	long := filepath.Join(t.TempDir(), "long")
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, "train.epochs=11"), DataDir: dataDir, OutDir: long, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(long, rundir.StepsFile)); !os.IsNotExist(err) {
		t.Errorf("a run of 11 epochs wrote steps.csv (%v)", err)
	}
}

// TestProgressShowsTheWholeRun checks the interactive progress bar: one bar
// over all the run's steps with the run's remaining time, the epoch, the
// running loss and accuracy and the images per second.
func TestProgressShowsTheWholeRun(t *testing.T) {
	dataDir := cifartest.Toy(t, 200, 50, 5)
	var stderr bytes.Buffer
	// The run's own bar redraws at most every 100 ms, which a fast epoch
	// may not reach: this one redraws at every step, so every epoch shows.
	bar := &train.Progress{W: &stderr, Interactive: true, Throttle: -1}
	if _, err := Train(context.Background(), Options{Config: toyConfig(t), DataDir: dataDir, OutDir: filepath.Join(t.TempDir(), "run"),
		Quiet: true, Listeners: []train.Listener{bar}}); err != nil {
		t.Fatal(err)
	}
	out := stderr.String()
	line := regexp.MustCompile(`epoch ([123])/3  loss \d+\.\d{4}  acc \d\.\d{4}  \d+ img/s .*\((\d+)/30\) .*\[\d+s:\d+s\]`)
	seen := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(out, -1) {
		seen[m[1]] = true
	}
	if len(seen) != 3 {
		t.Errorf("progress bar lines for epochs %v, want 1, 2 and 3 with loss, acc, img/s, steps of 30 and [elapsed:remaining]:\n%q", seen, out)
	}
	if n := strings.Count(out, "epoch 3/3  train_loss"); n != 1 {
		t.Errorf("%d summary lines for epoch 3", n)
	}
}
