package run

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// finishedRun trains a 1-epoch toy run and returns its directory.
func finishedRun(t *testing.T, dataDir string, sets ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, append([]string{"train.epochs=1"}, sets...)...), DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// snapshotFiles returns the bytes of every file under dir.
func snapshotFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out[p], _ = os.ReadFile(p)
		}
		return nil
	})
	return out
}

// TestResumePathsThatCannotResume: a mistyped checkpoint path, a best
// checkpoint and a missing run directory are errors (ErrNoCheckpoint, exit
// 4) that change nothing; before, a mistyped path started the finished run
// over ("no checkpoint yet") and a best checkpoint failed with "checkpoint
// has no tensor optim.m...".
func TestResumePathsThatCannotResume(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	dir := finishedRun(t, dataDir)
	before := snapshotFiles(t, dir)
	tests := []struct {
		name, resume string
		want         []string
	}{
		{name: "mistyped checkpoint", resume: filepath.Join(dir, "checkpoints", "lats.safetensors"),
			want: []string{"lats.safetensors: no checkpoint to resume", "no such file", "holds best.safetensors, last.safetensors"}},
		{name: "best checkpoint", resume: rundir.Best(dir),
			want: []string{"a best checkpoint holds weights only, no optimizer state; resume from the run directory: lepton train --resume " + dir}},
		{name: "missing run directory", resume: dir + "-typo", want: []string{"no such run directory"}},
		{name: "a file that is not a checkpoint", resume: filepath.Join(dir, rundir.ConfigFile), want: []string{"not a run directory or a .safetensors checkpoint"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			_, err := Train(context.Background(), Options{Config: toyConfig(t, "train.epochs=1"), DataDir: dataDir, Resume: tc.resume, Stderr: &log})
			if !errors.Is(err, ErrNoCheckpoint) {
				t.Fatalf("resume %s: %v, want ErrNoCheckpoint", tc.resume, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(log.String(), "starting the run over") {
				t.Errorf("stderr: %s", log.String())
			}
			after := snapshotFiles(t, dir)
			if len(after) != len(before) {
				t.Fatalf("files changed: %d before, %d after", len(before), len(after))
			}
			for p, b := range before {
				if !bytes.Equal(after[p], b) {
					t.Fatalf("%s changed", p)
				}
			}
		})
	}
}

// TestResumeFinishedRunIsANoOp: resuming a finished run changes nothing
// and says it is finished and how to train further (as Lightning's fit
// returns at once when max_epochs is reached); with more epochs it trains on.
func TestResumeFinishedRunIsANoOp(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	dir := finishedRun(t, dataDir)
	before := snapshotFiles(t, dir)
	var log bytes.Buffer
	got, err := Train(context.Background(), Options{Config: toyConfig(t, "train.epochs=1"), DataDir: "/nonexistent", Resume: dir, Stderr: &log, Quiet: true})
	if err != nil || got != dir {
		t.Fatalf("resume of a finished run: %q, %v", got, err)
	}
	want := "run " + dir + " is finished: epoch 1 of train.epochs 1 is done; nothing to train (to train further: lepton train --resume " + dir + " --epochs N, with N > 1)\n"
	if log.String() != want {
		t.Fatalf("stderr %q\nwant   %q", log.String(), want)
	}
	for p, b := range before {
		if a, _ := os.ReadFile(p); !bytes.Equal(a, b) {
			t.Fatalf("%s changed", p)
		}
	}
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, "train.epochs=2"), DataDir: dataDir, Resume: dir, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	if ck, err := checkpoint.Load(rundir.Last(dir)); err != nil || ck.Meta.Epoch != 2 {
		t.Fatalf("after --epochs 2: %v", err)
	}

	// A run that early stopping ended cannot be trained further.
	es := finishedRun(t, dataDir, "train.optimizer.lr=0.0000001", "train.early_stopping.enabled=true",
		"train.early_stopping.patience=1", "train.early_stopping.min_delta=0.5", "train.epochs=5")
	log.Reset()
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, "train.optimizer.lr=0.0000001", "train.early_stopping.enabled=true",
		"train.early_stopping.patience=1", "train.early_stopping.min_delta=0.5", "train.epochs=9"), DataDir: dataDir, Resume: es, Stderr: &log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "early stopping ended it after epoch 2; nothing to train") {
		t.Fatalf("stderr %q", log.String())
	}
}

// TestResumeCraftedStateIsACheckpointError resumes digest-valid
// checkpoints whose training state says best_epoch 99 with an empty
// history, or epoch_step -1: the resume fails with ErrCorrupt (exit 4)
// naming the field, where it used to panic.
func TestResumeCraftedStateIsACheckpointError(t *testing.T) {
	dataDir := cifartest.Toy(t, 60, 20, 5)
	tests := []struct {
		name string
		edit map[string]string
		want string
	}{
		{name: "best epoch 99, empty history", edit: map[string]string{"best_epoch": "99", "history": "[]"},
			want: "history holds 0 epochs, but the checkpoint is at epoch 1"},
		{name: "best epoch 99", edit: map[string]string{"best_epoch": "99"}, want: "best_epoch 99 is outside [1, 1]"},
		{name: "epoch step -1", edit: map[string]string{"epoch_step": "-1"}, want: "epoch_step -1 is outside [0, 4]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := finishedRun(t, dataDir)
			os.Remove(filepath.Join(dir, rundir.ReportFile)) // not finished: the resume goes on to the state
			ck, err := checkpoint.Load(rundir.Last(dir))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.edit {
				ck = editState(t, ck, k, v)
			}
			if err := checkpoint.Save(rundir.Last(dir), ck); err != nil {
				t.Fatal(err)
			}
			_, err = Train(context.Background(), Options{Config: toyConfig(t, "train.epochs=2"), DataDir: dataDir, Resume: dir, Quiet: true})
			if !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("resume: %v\nwant ErrCorrupt with %q", err, tc.want)
			}
		})
	}
}
