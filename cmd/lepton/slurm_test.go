//go:build slurm

// Slurm end-to-end tests. They need a real Slurm cluster: "make test-slurm"
// brings up the single-node one of scripts/slurm-local.sh, runs them with
// -tags slurm and brings it down. Without sbatch they fail (they are only
// built with the tag, so a plain "go test" never sees them).
package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// needSlurm fails the test when the Slurm client commands are missing.
func needSlurm(t *testing.T) {
	t.Helper()
	for _, c := range []string{"sbatch", "squeue", "scontrol", "scancel"} {
		if _, err := exec.LookPath(c); err != nil {
			t.Fatalf("%s not found: run the Slurm tests with \"make test-slurm\" (scripts/slurm-local.sh up)", c)
		}
	}
}

// slurmOut runs a Slurm command and returns its output.
func slurmOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Logf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// taskStates returns squeue's state of each task of job id ("0" -> "RUNNING").
func taskStates(t *testing.T, id string) map[string]string {
	states := map[string]string{}
	for _, line := range strings.Split(slurmOut(t, "squeue", "--noheader", "--array", "--jobs", id, "--format", "%K %T"), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			states[f[0]] = f[1]
		}
	}
	return states
}

// watch polls until done() holds, logging squeue whenever a task's state
// changes and calling each() on every poll.
func watch(t *testing.T, id string, limit time.Duration, each func(), done func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := ""
	for !done() {
		// Log squeue when a task's state changes (not each second of TIME).
		if key := slurmOut(t, "squeue", "--noheader", "--array", "--jobs", id, "--format", "%i %t %r"); key != last {
			t.Logf("$ squeue --array --jobs %s\n%s", id, slurmOut(t, "squeue", "--array", "--jobs", id))
			last = key
		}
		each()
		if time.Now().After(deadline) {
			slurmOut(t, "scancel", id)
			t.Fatalf("not done after %v", limit)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func allFinished(dir string, n int) bool {
	for i := 0; i < n; i++ {
		if !rundir.Finished(trialDir(dir, i)) {
			return false
		}
	}
	return true
}

// TestSlurmSweepGridWithPreemption submits a 4-trial grid over
// train.optimizer.lr and model.hidden of 1-epoch trials on the real
// CIFAR-10 data as a Slurm job array, requeues array task 0 while it runs
// (scontrol requeue, as a pre-emption does), and checks that all 4 trials
// finish, that trial 000 resumed from its checkpoint, and that its final
// last.safetensors is byte-identical to the same trial trained without
// interruption.
func TestSlurmSweepGridWithPreemption(t *testing.T) {
	needSlurm(t)
	dataDir := cifartest.Dir(t)
	bin := buildLepton(t)
	base, err := filepath.Abs("../../configs/mlp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	sweepFile := filepath.Join(root, "grid.yaml")
	os.WriteFile(sweepFile, []byte(`base: `+base+`
set: {train.epochs: 1, train.checkpoint_every: 20}
method: grid
parameters:
  train.optimizer.lr: {values: [0.001, 0.003]}
  model.hidden: {values: [[128, 64, 32, 16], [256, 128]]}
metric: val_acc
goal: maximize
resources: {cpus: 1, memory: 1G, time: "15:00"}
`), 0o644)
	dir := filepath.Join(root, "sweep")
	out, err := exec.Command(bin, "sweep", sweepFile, "--out", dir, "--executor", "slurm", "--parallel", "2", "--data", dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("lepton sweep --executor slurm: %v\n%s", err, out)
	}
	t.Logf("$ lepton sweep grid.yaml --out %s --executor slurm --parallel 2\n%s", dir, out)
	id := strings.TrimSpace(strings.Split(strings.TrimSpace(string(out)), "\n")[len(strings.Split(strings.TrimSpace(string(out)), "\n"))-1])

	requeued := false
	watch(t, id, 10*time.Minute, func() {
		if requeued || taskStates(t, id)["0"] != "RUNNING" {
			return
		}
		td := trialDir(dir, 0)
		if exists(rundir.Last(td)) && rundir.Status(td) == "" {
			t.Logf("$ scontrol requeue %s_0\n%s", id, slurmOut(t, "scontrol", "requeue", id+"_0"))
			requeued = true
		}
	}, func() bool { return allFinished(dir, 4) && len(taskStates(t, id)) == 0 })
	if !requeued {
		t.Fatal("trial 000 finished before it could be requeued")
	}
	logs, _ := filepath.Glob(filepath.Join(trialDir(dir, 0), "slurm-*.log"))
	if len(logs) != 1 {
		t.Fatalf("trial 000's Slurm logs: %v", logs)
	}
	log, _ := os.ReadFile(logs[0])
	t.Logf("%s:\n%s", logs[0], log)
	if !strings.Contains(string(log), ", restart 1") || !strings.Contains(string(log), "resuming at epoch 1 step ") {
		t.Fatalf("trial 000 did not resume from its checkpoint after the requeue:\n%s", log)
	}

	// The same trial without interruption.
	cfg, _ := os.ReadFile(filepath.Join(trialDir(dir, 0), rundir.ConfigFile))
	refCfg := filepath.Join(root, "trial000.yaml")
	os.WriteFile(refCfg, cfg, 0o644)
	ref := filepath.Join(root, "reference")
	if out, err := exec.Command(bin, "train", "--config", refCfg, "--out", ref, "--data", dataDir, "--threads", "1", "--quiet").CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	a, _ := os.ReadFile(rundir.Last(trialDir(dir, 0)))
	b, _ := os.ReadFile(rundir.Last(ref))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("trial 000's last.safetensors (%d bytes) differs from the uninterrupted run's (%d bytes)", len(a), len(b))
	}
	t.Logf("trial 000 requeued and resumed: last.safetensors byte-identical to the uninterrupted run (%d bytes)", len(a))

	status, err := exec.Command(bin, "sweep", "status", dir).CombinedOutput()
	if err != nil || strings.Count(string(status), " finished ") != 4 {
		t.Errorf("sweep status: %v\n%s", err, status)
	}
	t.Logf("$ lepton sweep status %s\n%s", dir, status)
	results, err := exec.Command(bin, "sweep", "results", dir).Output()
	if err != nil || strings.Count(string(results), " finished ") != 4 {
		t.Errorf("sweep results: %v\n%s", err, results)
	}
	t.Logf("$ lepton sweep results %s\n%s", dir, results)
}

// TestSlurmSweepCancelAndResubmit cancels a running sweep with "lepton
// sweep cancel" (the trials save resumable checkpoints on Slurm's SIGTERM)
// and submits it again: the interrupted trials resume and finish.
func TestSlurmSweepCancelAndResubmit(t *testing.T) {
	needSlurm(t)
	bin := buildLepton(t)
	dataDir := cifartest.Toy(t, 400, 50, 1)
	sweepFile := writeSweepFiles(t, `base: base.yaml
set: {train.epochs: 40, train.batch_size: 32}
parameters:
  train.optimizer.lr: {values: [0.003, 0.01]}
resources: {cpus: 1, memory: 512M, time: "10:00"}
`)
	dir := filepath.Join(t.TempDir(), "sweep")
	submit := func() string {
		out, err := exec.Command(bin, "sweep", sweepFile, "--out", dir, "--executor", "slurm", "--data", dataDir).Output()
		if err != nil {
			t.Fatalf("lepton sweep --executor slurm: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	id := submit()
	watch(t, id, 3*time.Minute, func() {}, func() bool {
		return taskStates(t, id)["0"] == "RUNNING" && exists(rundir.Last(trialDir(dir, 0)))
	})
	if out, err := exec.Command(bin, "sweep", "cancel", dir).CombinedOutput(); err != nil {
		t.Fatalf("sweep cancel: %v\n%s", err, out)
	}
	watch(t, id, 2*time.Minute, func() {}, func() bool { return len(taskStates(t, id)) == 0 })
	if st := rundir.Status(trialDir(dir, 0)); st != "interrupted" && st != "finished" {
		t.Fatalf("trial 000 after scancel: status %q, want interrupted (a resumable checkpoint)", st)
	}
	status, _ := exec.Command(bin, "sweep", "status", dir).CombinedOutput()
	t.Logf("after cancel:\n%s", status)

	id2 := submit()
	if id2 == id {
		t.Fatalf("resubmission reused job id %s", id)
	}
	watch(t, id2, 3*time.Minute, func() {}, func() bool { return allFinished(dir, 2) && len(taskStates(t, id2)) == 0 })
	logs, _ := filepath.Glob(filepath.Join(trialDir(dir, 0), "slurm-"+id2+"_0.log"))
	if len(logs) != 1 {
		t.Fatalf("no Slurm log of the resubmitted task 0")
	}
	log, _ := os.ReadFile(logs[0])
	if rundir.Status(trialDir(dir, 0)) == "finished" && !strings.Contains(string(log), "already finished") && !strings.Contains(string(log), "resuming at epoch") {
		t.Errorf("the resubmitted trial 000 did not resume:\n%s", log)
	}
}
