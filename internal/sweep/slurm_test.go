//go:build unix

package sweep

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestScriptGolden(t *testing.T) {
	b, err := Script("/sweeps/demo", demoSweep(t), 4, ScriptOptions{Lepton: "/opt/lepton/bin/lepton", Parallel: 2, Data: "/data/cifar-10-batches-bin"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sweep.sbatch", b)
	for _, want := range []string{"#SBATCH --array=0-3%2\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --mem=6G\n", "#SBATCH --time=2:00:00\n",
		"#SBATCH --partition=batch\n", "#SBATCH --account=vision\n", "#SBATCH --requeue\n", "#SBATCH --signal=B:TERM@60\n",
		"#SBATCH --output=/sweeps/demo/trials/%3a/slurm-%A_%a.log\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("script lacks %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "sweep.sbatch")
	os.WriteFile(path, b, 0o755)
	if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	if _, err := Script("/sweeps/my sweep", demoSweep(t), 4, ScriptOptions{Lepton: "/bin/lepton"}); err == nil {
		t.Error("a path with a space went into the script")
	}
}

// fakeLepton stands in for lepton in the script: it logs its arguments
// and every SIGTERM to $FAKE_LOG, trains for $FAKE_STEPS times 50 ms, and
// on SIGTERM marks the trial interrupted and exits 143, as lepton does.
const fakeLepton = `#!/bin/bash
echo "args $*" >> "$FAKE_LOG"
if [ -n "${LEPTON_TRAIN_EPOCHS:-}" ]; then echo "LEPTON_TRAIN_EPOCHS leaked" >> "$FAKE_LOG"; fi
trap 'echo TERM >> "$FAKE_LOG"; printf "{\n  \"status\": \"interrupted\"\n}\n" > "$FAKE_TRIAL/report.json"; exit 143' TERM
n=0
while [ $n -lt "$FAKE_STEPS" ]; do sleep 0.05; n=$((n + 1)); done
printf '{\n  "status": "finished"\n}\n' > "$FAKE_TRIAL/report.json"
`

// TestScriptRunsTrainsAndHandlesSIGTERM runs the sbatch script with bash
// as Slurm would (the SLURM_* variables set), with a fake lepton and a fake
// scontrol: it starts, resumes or skips the trial, and on SIGTERM saves
// once (requeue, pre-emption: every process gets the signal) or passes the
// signal on and requeues itself (time limit: only the shell gets it).
func TestScriptRunsTrainsAndHandlesSIGTERM(t *testing.T) {
	tests := []struct {
		name       string
		checkpoint bool   // trials/000 holds a checkpoint
		finished   bool   // trials/000 holds a finished report
		signal     string // "", "group" (Slurm's requeue) or "shell" (--signal=B:TERM)
		wantArgs   string
		wantTERMs  int
		requeue    bool
	}{
		{name: "fresh trial starts", wantArgs: "args train --config SWEEP/trials/000/config.yaml --out SWEEP/trials/000 --force --data /data --threads 3"},
		{name: "trial with a checkpoint resumes", checkpoint: true, wantArgs: "args train --resume SWEEP/trials/000 --data /data --threads 3"},
		{name: "finished trial is skipped", finished: true},
		{name: "requeue signals every process once", signal: "group", wantArgs: "args train --config SWEEP/trials/000/config.yaml --out SWEEP/trials/000 --force --data /data --threads 3", wantTERMs: 1},
		{name: "time limit warning is passed on and requeues", signal: "shell", wantArgs: "args train --config SWEEP/trials/000/config.yaml --out SWEEP/trials/000 --force --data /data --threads 3", wantTERMs: 1, requeue: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			sweepDir := filepath.Join(tmp, "sweep")
			trial := TrialDir(sweepDir, 0)
			os.MkdirAll(filepath.Join(trial, "checkpoints"), 0o755)
			if tc.checkpoint {
				os.WriteFile(filepath.Join(trial, "checkpoints", "last.safetensors"), []byte("x"), 0o644)
			}
			if tc.finished {
				os.WriteFile(filepath.Join(trial, "report.json"), []byte("{\n  \"status\": \"finished\"\n}\n"), 0o644)
			}
			bin := filepath.Join(tmp, "bin")
			os.MkdirAll(bin, 0o755)
			os.WriteFile(filepath.Join(bin, "lepton"), []byte(fakeLepton), 0o755)
			os.WriteFile(filepath.Join(bin, "scontrol"), []byte("#!/bin/sh\necho \"scontrol $*\" >> \"$FAKE_LOG\"\n"), 0o755)
			b, err := Script(sweepDir, demoSweep(t), 1, ScriptOptions{Lepton: filepath.Join(bin, "lepton"), Data: "/data"})
			if err != nil {
				t.Fatal(err)
			}
			script := filepath.Join(tmp, "sweep.sbatch")
			os.WriteFile(script, []byte(strings.Replace(string(b), "\nTERM_GRACE=10\n", "\nTERM_GRACE=1\n", 1)), 0o755)
			logPath := filepath.Join(tmp, "log")
			cmd := exec.Command("bash", script)
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAKE_LOG="+logPath, "FAKE_TRIAL="+trial,
				"FAKE_STEPS="+map[bool]string{false: "10", true: "400"}[tc.signal != ""], "SLURM_ARRAY_TASK_ID=0", "SLURM_ARRAY_JOB_ID=77", "SLURM_CPUS_PER_TASK=3", "LEPTON_TRAIN_EPOCHS=99")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			out := &strings.Builder{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tc.signal != "" {
				deadline := time.Now().Add(10 * time.Second)
				for {
					if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "args ") {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("fake lepton did not start:\n%s", out)
					}
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(200 * time.Millisecond) // let the fake set its trap
				if tc.signal == "group" {
					syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
				} else {
					cmd.Process.Signal(syscall.SIGTERM)
				}
			}
			err = cmd.Wait()
			logged, _ := os.ReadFile(logPath)
			lines := strings.Split(strings.TrimSpace(string(logged)), "\n")
			if tc.wantArgs == "" {
				if err != nil || len(logged) > 0 {
					t.Fatalf("exit %v, lepton ran: %q\n%s", err, logged, out)
				}
				return
			}
			if got := strings.ReplaceAll(lines[0], sweepDir, "SWEEP"); got != tc.wantArgs {
				t.Errorf("lepton ran with\n%q\nwant\n%q", got, tc.wantArgs)
			}
			if strings.Contains(string(logged), "leaked") {
				t.Errorf("the submitting shell's LEPTON_TRAIN_EPOCHS reached lepton:\n%s", logged)
			}
			terms := strings.Count(string(logged), "TERM\n")
			requeued := strings.Contains(string(logged), "scontrol requeue 77_0")
			if terms != tc.wantTERMs || requeued != tc.requeue {
				t.Errorf("lepton got %d SIGTERMs (want %d), requeued %v (want %v); log:\n%s\noutput:\n%s", terms, tc.wantTERMs, requeued, tc.requeue, logged, out)
			}
			if wantExit := tc.signal != ""; (err != nil) != wantExit {
				t.Errorf("script exit %v, want an error: %v", err, wantExit)
			}
		})
	}
}

// fakeSlurm installs sbatch, squeue, sacct and scancel stand-ins that log
// their arguments to the returned file.
func fakeSlurm(t *testing.T, sbatchOut, squeueOut string) string {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(bin, "calls")
	for name, body := range map[string]string{
		"sbatch":  "echo \"sbatch $*\" >> " + log + "\necho '" + sbatchOut + "'\n",
		"squeue":  "echo \"squeue $*\" >> " + log + "\nprintf '" + squeueOut + "'\n",
		"sacct":   "echo 'sacct: error: Slurm accounting storage is disabled' >&2\nexit 1\n",
		"scancel": "echo \"scancel $*\" >> " + log + "\n",
	} {
		os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body), 0o755)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	return log
}

func TestSubmitStatusCancelCallSlurm(t *testing.T) {
	dir := t.TempDir()
	log := fakeSlurm(t, "4242;cluster", "0 RUNNING None\\n1 PENDING JobArrayTaskLimit\\n")
	os.WriteFile(filepath.Join(dir, ScriptFile), []byte("#!/bin/bash\n"), 0o755)
	// A job still queued blocks a second submission.
	os.WriteFile(filepath.Join(dir, JobFile), []byte("17\n"), 0o644)
	if _, err := Submit(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "job 17 of this sweep is still queued") {
		t.Fatalf("second submission: %v", err)
	}
	os.Remove(filepath.Join(dir, JobFile))
	id, err := Submit(context.Background(), dir)
	if err != nil || id != "4242" {
		t.Fatalf("Submit: %q, %v", id, err)
	}
	if got, _ := JobID(dir); got != "4242" {
		t.Errorf("recorded job id %q", got)
	}
	states, err := Queue(context.Background(), id)
	if want := map[int]string{0: "RUNNING", 1: "PENDING (JobArrayTaskLimit)"}; err != nil || !reflect.DeepEqual(states, want) {
		t.Errorf("Queue: %v, %v, want %v", states, err, want)
	}
	if _, err := Cancel(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	calls, _ := os.ReadFile(log)
	want := "squeue --noheader --array --jobs 17 --format %K %T %r\n" +
		"sbatch --parsable " + filepath.Join(dir, ScriptFile) + "\n" +
		"squeue --noheader --array --jobs 4242 --format %K %T %r\n" +
		"scancel 4242\n"
	if string(calls) != want {
		t.Errorf("Slurm calls:\n%s\nwant\n%s", calls, want)
	}
}
