package run

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/runs"
	"github.com/lepton-cli/lepton/internal/train"
)

// TestDivergedRunKeepsLastGoodCheckpoint trains with a learning rate that
// makes the loss overflow within the first epoch (as "--set
// train.optimizer.name=sgd --lr 5" does on CIFAR-10). Before, the run
// failed with "encode training state: json: unsupported value: NaN" and
// wrote no checkpoint and no report. Now training stops at the first
// non-finite loss with the epoch and step, the last checkpoint saved
// before it stays (finite weights, an earlier step), report.json says
// "diverged" and "lepton runs" reads it back.
func TestDivergedRunKeepsLastGoodCheckpoint(t *testing.T) {
	dataDir := cifartest.Toy(t, 200, 50, 5)
	dir := filepath.Join(t.TempDir(), "run")
	cfg := toyConfig(t, "train.optimizer.name=sgd", "train.optimizer.lr=1e6", "train.optimizer.momentum=0", "train.checkpoint_every=1")
	_, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true})
	if !errors.Is(err, train.ErrDiverged) {
		t.Fatalf("Train: %v, want ErrDiverged", err)
	}
	m := regexp.MustCompile(`^epoch 1 step (\d+): training diverged: the training loss is (NaN|\+Inf); the last good state is in .*last.safetensors \(step (\d+), 0 epochs complete\)$`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("message %q", err)
	}
	bad, _ := strconv.Atoi(m[1])
	good, _ := strconv.Atoi(m[3])
	if bad < 2 || good != bad-1 {
		t.Fatalf("diverged at step %d, last checkpoint at step %d: want the step before", bad, good)
	}
	ck, err := checkpoint.Load(rundir.Last(dir))
	if err != nil {
		t.Fatalf("last checkpoint: %v", err)
	}
	for _, ts := range ck.Tensors {
		for _, v := range ts.Data {
			if v-v != 0 {
				t.Fatalf("last checkpoint's %s holds %v", ts.Name, v)
			}
		}
	}
	rep, err := report.Read(report.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != report.StatusDiverged || rep.Error == "" || rep.Checkpoint != "" {
		t.Fatalf("report status %q error %q checkpoint %q", rep.Status, rep.Error, rep.Checkpoint)
	}
	r, err := runs.Read(dir)
	if err != nil || r.Status != runs.Diverged {
		t.Fatalf("runs.Read: %+v, %v", r, err)
	}
}
