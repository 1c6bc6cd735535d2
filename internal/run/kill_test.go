package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/failpoint"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// The helper process of TestKillAtChosenMoment: this test binary, run with
// killHelperEnv set, trains one run as "lepton train --config ... --out
// DIR" does and exits, unless the failpoint armed in its environment kills
// it first.
const killHelperEnv = "LEPTON_RUN_KILL_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(killHelperEnv) == "1" {
		os.Exit(killHelper())
	}
	os.Exit(m.Run())
}

func killHelper() int {
	cfg, err := config.Load(config.LoadOptions{Sets: strings.Split(os.Getenv("KILL_SETS"), "\n")})
	if err == nil {
		_, err = Train(context.Background(), Options{Config: cfg, DataDir: os.Getenv("KILL_DATA"), OutDir: os.Getenv("KILL_OUT"), Quiet: true})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// toySets are toyConfig's settings, as a process gets them.
func toySets(sets ...string) []string {
	return append([]string{"name=toy", "seed=9", "model.hidden=[16,8]", "train.epochs=3", "train.batch_size=16", "train.optimizer.lr=0.003"}, sets...)
}

// trainKilled runs a new run in a helper process with failpoint point armed
// and checks the process died by SIGKILL.
func trainKilled(t *testing.T, point, dataDir, dir string, sets []string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killHelperEnv+"=1", failpoint.Env+"="+point,
		"KILL_DATA="+dataDir, "KILL_OUT="+dir, "KILL_SETS="+strings.Join(toySets(sets...), "\n"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Exited() {
		t.Fatalf("helper at %s: %v, want killed by a signal\n%s", point, err, stderr.String())
	}
}

// resumeAsCLI resumes dir as "lepton train --resume DIR" does: with the
// run's own config.yaml.
func resumeAsCLI(dataDir, dir string) error {
	file, err := ConfigFile(dir)
	if err != nil {
		return err
	}
	cfg, err := config.Load(config.LoadOptions{File: file})
	if err != nil {
		return err
	}
	_, err = Train(context.Background(), Options{Config: cfg, DataDir: dataDir, Resume: dir, Quiet: true})
	return err
}

// TestKillAtChosenMoment kills a training process with SIGKILL at named
// moments (internal/failpoint), resumes the run as the CLI does, and checks
// the run ends bit-identical to an uninterrupted one, with a report whose
// best epoch is best.safetensors' epoch. Issue 10 items 8 and 9: a kill
// between an epoch's last and best writes left best missing (1 epoch:
// every resume failed) or an epoch behind the report (2 epochs); a kill
// before config.yaml existed left a run that could not be resumed.
func TestKillAtChosenMoment(t *testing.T) {
	dataDir := cifartest.Toy(t, 200, 50, 5)
	refs := map[string]string{}
	reference := func(sets []string) string {
		key := strings.Join(sets, " ")
		if d, ok := refs[key]; ok {
			return d
		}
		d := filepath.Join(t.TempDir(), "ref")
		cfg, err := config.Load(config.LoadOptions{Sets: toySets(sets...)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: d, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		refs[key] = d
		return d
	}
	// Best by validation loss, which falls in both epochs.
	two := []string{"train.epochs=2", "train.early_stopping.enabled=true", "train.early_stopping.monitor=val_loss"}
	if rep, _ := report.Read(report.Path(reference(two))); rep == nil || rep.BestEpoch != 2 {
		t.Fatalf("the 2-epoch reference's best epoch must be 2 for the test to mean anything: %v", rep.BestEpoch)
	}

	tests := []struct {
		name  string
		point string
		sets  []string
		// check looks at the killed run's directory before the resume.
		check func(t *testing.T, dir string)
		// rerun: the directory does not exist, so the run is started again.
		rerun bool
	}{
		{name: "run directory filled, not yet in place", point: failpoint.RunDirFilled, rerun: true,
			check: func(t *testing.T, dir string) {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("the run directory exists before its rename: %v", err)
				}
				if err := resumeAsCLI(dataDir, dir); !errors.Is(err, ErrNoCheckpoint) || !strings.Contains(err.Error(), "no such run directory") {
					t.Fatalf("resume of a run directory never made: %v, want ErrNoCheckpoint", err)
				}
			}},
		{name: "run directory created, not locked", point: failpoint.RunDirCreated,
			check: func(t *testing.T, dir string) {
				mustExist(t, filepath.Join(dir, rundir.ConfigFile), filepath.Join(dir, rundir.CheckpointDir))
			}},
		{name: "run directory locked, no checkpoint", point: failpoint.RunDirLocked,
			check: func(t *testing.T, dir string) {
				mustExist(t, filepath.Join(dir, rundir.ConfigFile), filepath.Join(dir, rundir.LockFile), filepath.Join(dir, rundir.CheckpointDir))
			}},
		{name: "1 epoch: last written, best not", point: failpoint.CheckpointLastSaved, sets: []string{"train.epochs=1"},
			check: func(t *testing.T, dir string) { mustNotExist(t, rundir.Best(dir)) }},
		{name: "2 epochs: epoch 2's last written, best not", point: failpoint.CheckpointLastSaved + "@2", sets: two,
			check: func(t *testing.T, dir string) {
				if best, err := checkpoint.Load(rundir.Best(dir)); err != nil || best.Meta.Epoch != 1 {
					t.Fatalf("best checkpoint before the resume: %v, epoch %v; want epoch 1", err, best)
				}
			}},
		{name: "training done, no report", point: failpoint.TrainingDone,
			check: func(t *testing.T, dir string) { mustNotExist(t, report.Path(dir)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			trainKilled(t, tc.point, dataDir, dir, tc.sets)
			tc.check(t, dir)
			if tc.rerun {
				cfg, err := config.Load(config.LoadOptions{Sets: toySets(tc.sets...)})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
					t.Fatalf("run again after the kill: %v", err)
				}
			} else if err := resumeAsCLI(dataDir, dir); err != nil {
				t.Fatalf("resume after the kill: %v", err)
			}
			sameRun(t, dir, reference(tc.sets))
		})
	}
}

// TestResumeRunWithoutConfig: a directory with .lock and checkpoints/ but
// no config.yaml, as an older lepton killed early left it, is treated as
// a run that never started: the CLI asks for --config, and with a config
// the run starts over.
func TestResumeRunWithoutConfig(t *testing.T) {
	dataDir := cifartest.Toy(t, 200, 50, 5)
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(filepath.Join(dir, rundir.CheckpointDir), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, rundir.LockFile), []byte("999999999\n"), 0o644)
	var cfgErr *config.Error
	if _, err := ConfigFile(dir); !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), "give the config with --config") {
		t.Fatalf("ConfigFile: %v, want a config error asking for --config", err)
	}
	cfg, err := config.Load(config.LoadOptions{Sets: toySets()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, Resume: dir, Quiet: true}); err != nil {
		t.Fatalf("resume with --config: %v", err)
	}
	if !rundir.Finished(dir) {
		t.Fatal("run not finished")
	}
}

// sameRun checks that the run in dir is finished and bit-identical to the
// uninterrupted run in ref (checkpoints, metrics but wall-clock seconds),
// and that its report's best epoch is the one best.safetensors holds.
func sameRun(t *testing.T, dir, ref string) {
	t.Helper()
	if !rundir.Finished(dir) {
		t.Fatalf("run not finished: status %q", rundir.Status(dir))
	}
	got, want := runFiles(t, dir), runFiles(t, ref)
	for _, name := range []string{"last.safetensors", "best.safetensors", "metrics.csv"} {
		if !bytes.Equal(got[name], want[name]) {
			t.Errorf("%s differs from the uninterrupted run's", name)
		}
	}
	rep, err := report.Read(report.Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	best, err := checkpoint.Load(rundir.Best(dir))
	if err != nil {
		t.Fatal(err)
	}
	if rep.BestEpoch != best.Meta.Epoch {
		t.Errorf("report says best epoch %d, best.safetensors holds epoch %d", rep.BestEpoch, best.Meta.Epoch)
	}
	refRep, err := report.Read(report.Path(ref))
	if err != nil {
		t.Fatal(err)
	}
	if refRep.BestEpoch != rep.BestEpoch || refRep.Test.Accuracy != rep.Test.Accuracy {
		t.Errorf("report: best epoch %d, test accuracy %v; the uninterrupted run's: %d, %v",
			rep.BestEpoch, rep.Test.Accuracy, refRep.BestEpoch, refRep.Test.Accuracy)
	}
}

func mustExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("after the kill: %v", err)
		}
	}
}

func mustNotExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("after the kill %s exists (%v), want it missing", p, err)
		}
	}
}
