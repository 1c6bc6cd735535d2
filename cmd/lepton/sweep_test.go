package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// writeSweepFiles writes toyConfig as base.yaml and the sweep file body
// beside it; it returns the sweep file's path.
func writeSweepFiles(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(toyConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSweepRefusesABadSweepBeforeAnythingRuns: an unknown key, a bad value
// in one trial or a range with min > max refuse the sweep with exit 2 and
// one line naming the trial and the key; the sweep directory is not made.
func TestSweepRefusesABadSweepBeforeAnythingRuns(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown key", "base: base.yaml\nparameters:\n  train.optimizer.lr: {values: [0.01]}\n  model.hiden: {values: [[8], [16]]}\n",
			`sweep.yaml: trial 000 (train.optimizer.lr=0.01 model.hiden=[8]): model.hiden: unknown key (did you mean model.hidden?)`},
		{"bad value in one trial", "base: base.yaml\nparameters:\n  train.batch_size: {values: [32, 64, 0]}\n",
			`sweep.yaml: trial 002 (train.batch_size=0): train.batch_size: must be >= 1, got 0`},
		{"range with min > max", "base: base.yaml\nmethod: random\ntrials: 4\nparameters:\n  train.optimizer.lr: {min: 0.1, max: 0.001, log: true}\n",
			`sweep.yaml: parameters.train.optimizer.lr: range min 0.1 > max 0.001`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sweepFile := writeSweepFiles(t, tc.body)
			out := filepath.Join(t.TempDir(), "sweep")
			r := runCLI(t, nil, "sweep", sweepFile, "--out", out)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", r.code, exitUsage, r.err)
			}
			if lines := strings.Split(strings.TrimSpace(r.err), "\n"); len(lines) != 1 || !strings.HasSuffix(lines[0], tc.want) {
				t.Fatalf("stderr %q\nwant one line ending in %q", r.err, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("the refused sweep made %s: %v", out, err)
			}
		})
	}
}

func TestSweepEmitsSchedulerFiles(t *testing.T) {
	sweepFile := writeSweepFiles(t, "base: base.yaml\nset: {train.epochs: 1}\nparameters:\n  train.optimizer.lr: {values: [0.01, 0.03, 0.1]}\n")
	out := filepath.Join(t.TempDir(), "sweep")
	r := runCLI(t, nil, "sweep", sweepFile, "--out", out, "--executor", "slurm", "--emit-only", "--parallel", "2")
	if r.code != 0 || strings.TrimSpace(r.out) != filepath.Join(out, "sweep.sbatch") {
		t.Fatalf("slurm --emit-only: exit %d, stdout %q, stderr %s", r.code, r.out, r.err)
	}
	script, _ := os.ReadFile(filepath.Join(out, "sweep.sbatch"))
	if !strings.Contains(string(script), "#SBATCH --array=0-2%2\n") {
		t.Errorf("script:\n%s", script)
	}
	r = runCLI(t, nil, "sweep", sweepFile, "--out", out, "--executor", "kubernetes", "--emit-only", "--image", "example/lepton:1")
	if r.code != 0 || strings.TrimSpace(r.out) != filepath.Join(out, "sweep-job.yaml") {
		t.Fatalf("kubernetes --emit-only: exit %d, stdout %q, stderr %s", r.code, r.out, r.err)
	}
	for _, f := range []string{"sweep.yaml", "trials/000/config.yaml", "trials/002/config.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("sweep directory lacks %s", f)
		}
	}
	for _, args := range [][]string{
		{"sweep", sweepFile, "--out", out, "--executor", "kubernetes", "--image", "x"},
		{"sweep", sweepFile, "--out", out, "--emit-only"},
		{"sweep", sweepFile},
		{"sweep", sweepFile, "--out", out, "--executor", "pbs"},
	} {
		if r := runCLI(t, nil, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, r.code, exitUsage, r.err)
		}
	}
}

// sweepBody is a 6-trial grid of small toy trials that take about a
// second each.
const sweepBody = `base: base.yaml
set: {train.epochs: 12, train.batch_size: 32}
parameters:
  train.optimizer.lr: {values: [0.003, 0.01]}
  model.hidden: {values: [[16], [32], [32, 16]]}
metric: val_acc
`

// TestSweepLocalInterruptAndResume runs a 6-trial sweep with --parallel 2,
// interrupts it with SIGINT (Ctrl-C) while some trials have finished and
// others are running, and runs the same command again: finished trials are
// skipped, interrupted ones resumed, the rest started, and every trial's
// checkpoints and metrics equal those of an uninterrupted sweep.
func TestSweepLocalInterruptAndResume(t *testing.T) {
	bin := buildLepton(t)
	dataDir := cifartest.Toy(t, 400, 50, 1)
	sweepFile := writeSweepFiles(t, sweepBody)
	root := t.TempDir()
	interrupted, straight := filepath.Join(root, "interrupted"), filepath.Join(root, "straight")
	sweepCmd := func(out string) *exec.Cmd {
		cmd := exec.Command(bin, "sweep", sweepFile, "--out", out, "--parallel", "2", "--data", dataDir)
		cmd.Env = append(os.Environ(), "LEPTON_TRAIN_EPOCHS=1") // ignored by the trials, with a warning
		return cmd
	}

	var errb bytes.Buffer
	cmd := sweepCmd(interrupted)
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Ctrl-C once trial 000 finished and another trial is halfway.
	deadline := time.Now().Add(3 * time.Minute)
	for !rundir.Finished(trialDir(interrupted, 0)) || !anyRunning(interrupted) {
		select {
		case err := <-done:
			t.Fatalf("the sweep ended (%v) before a trial finished while another was halfway:\n%s", err, errb.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no finished and running trial together after 3 minutes:\n%s", errb.String())
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := <-done
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitSIGINT {
		t.Fatalf("interrupted sweep: %v, want exit %d\n%s", err, exitSIGINT, errb.String())
	}
	first := errb.String()
	if !strings.Contains(first, "lepton: warning: ignoring LEPTON_TRAIN_EPOCHS") {
		t.Errorf("no warning about the ignored LEPTON_TRAIN_EPOCHS:\n%s", first)
	}
	state := map[string][]string{}
	for i := 0; i < 6; i++ {
		td := trialDir(interrupted, i)
		name := filepath.Base(td)
		// A trial interrupted in its final test evaluation has a
		// checkpoint but no report yet: it resumes too.
		switch st := rundir.Status(td); {
		case st == "finished":
			state["skipped: already finished"] = append(state["skipped: already finished"], name)
		case (st == "interrupted" || st == "") && exists(rundir.Last(td)):
			state["resumed"] = append(state["resumed"], name)
		case st == "":
			state["started"] = append(state["started"], name)
		default:
			t.Fatalf("trial %s after Ctrl-C: status %q", name, st)
		}
	}
	if len(state["resumed"]) == 0 || len(state["skipped: already finished"]) == 0 {
		t.Fatalf("want finished and interrupted trials after Ctrl-C, got %v\n%s", state, first)
	}
	t.Logf("after Ctrl-C: %v", state)

	errb.Reset()
	cmd = sweepCmd(interrupted)
	cmd.Stderr = &errb
	if out, err := cmd.Output(); err != nil {
		t.Fatalf("re-run: %v\n%s\n%s", err, out, errb.String())
	}
	second := errb.String()
	for verb, trials := range state {
		for _, name := range trials {
			if !regexp.MustCompile(`(?m)^trial ` + name + ` ` + regexp.QuoteMeta(verb)).MatchString(second) {
				t.Errorf("re-run stderr has no line %q for trial %s:\n%s", verb, name, second)
			}
		}
	}
	if strings.Count(second, " finished in ") != 6-len(state["skipped: already finished"]) {
		t.Errorf("re-run trained more or fewer trials than the unfinished ones:\n%s", second)
	}

	if out, err := sweepCmd(straight).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted sweep: %v\n%s", err, out)
	}
	for i := 0; i < 6; i++ {
		a, b := trialDir(interrupted, i), trialDir(straight, i)
		for _, f := range []string{rundir.Last(""), rundir.Best("")} {
			x, errA := os.ReadFile(filepath.Join(a, f))
			y, errB := os.ReadFile(filepath.Join(b, f))
			if errA != nil || errB != nil || !bytes.Equal(x, y) {
				t.Errorf("trial %03d: %s differs from the uninterrupted sweep's (%v, %v)", i, f, errA, errB)
			}
		}
	}
	resultsJSON := func(dir string) []map[string]any {
		out, err := exec.Command(bin, "sweep", "results", dir, "--output", "json").Output()
		if err != nil {
			t.Fatalf("sweep results %s: %v", dir, err)
		}
		var rows []map[string]any
		if err := json.Unmarshal(out, &rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r["status"] != "finished" || r["val_acc"] == nil || r["test_acc"] == nil {
				t.Errorf("%s: trial %v: %v", dir, r["trial"], r)
			}
			delete(r, "dir")
		}
		return rows
	}
	if a, b := resultsJSON(interrupted), resultsJSON(straight); !jsonEqual(a, b) {
		t.Errorf("results differ:\ninterrupted %v\nstraight    %v", a, b)
	}
	if _, err := os.Stat(filepath.Join(interrupted, "sweep.png")); err != nil {
		t.Errorf("no sweep.png: %v", err)
	}
	out, err := exec.Command(bin, "runs", filepath.Join(straight, "trials"), "--columns", "train.optimizer.lr,model.hidden", "--sort", "model.hidden").Output()
	if err != nil || !strings.Contains(string(out), "train.optimizer.lr  model.hidden") || !strings.Contains(string(out), "0.01                [32, 16]") {
		t.Errorf("runs --columns: %v\n%s", err, out)
	}
}

// trialDir is trial i's run directory in a sweep directory.
func trialDir(sweepDir string, i int) string {
	return filepath.Join(sweepDir, "trials", []string{"000", "001", "002", "003", "004", "005"}[i])
}

// anyRunning reports whether a trial of the sweep has a checkpoint but at
// most half of its 12 epochs in metrics.csv, so that it is still running
// when the signal arrives.
func anyRunning(sweepDir string) bool {
	for i := 0; i < 6; i++ {
		td := trialDir(sweepDir, i)
		m, err := os.ReadFile(filepath.Join(td, rundir.MetricsFile))
		if err == nil && exists(rundir.Last(td)) && rundir.Status(td) == "" && bytes.Count(m, []byte("\n")) <= 1+6 {
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// jsonEqual compares two decoded JSON lists, ignoring order.
func jsonEqual(a, b []map[string]any) bool {
	enc := func(rows []map[string]any) string {
		var s []string
		for _, r := range rows {
			b, _ := json.Marshal(r)
			s = append(s, string(b))
		}
		sort.Strings(s)
		return strings.Join(s, "\n")
	}
	return enc(a) == enc(b)
}
