package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
)

// buildLepton compiles the lepton binary for tests that need a real process.
func buildLepton(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lepton")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSignalsWriteResumableCheckpoint interrupts training with SIGINT and
// SIGTERM: the process exits 130 or 143, the report says "interrupted", the
// last checkpoint is readable, and --resume finishes the run.
func TestSignalsWriteResumableCheckpoint(t *testing.T) {
	bin := buildLepton(t)
	dataDir := cifartest.Toy(t, 400, 50, 1)
	cfg := writeConfig(t, toyConfig)
	tests := []struct {
		name string
		sig  syscall.Signal
		code int
	}{
		{name: "SIGINT", sig: syscall.SIGINT, code: 130},
		{name: "SIGTERM", sig: syscall.SIGTERM, code: 143},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(bin, "train", "--config", cfg, "--data", dataDir, "--out", run, "--epochs", "400", "--quiet")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			last := filepath.Join(run, "checkpoints", "last.safetensors")
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(last); err == nil {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("no checkpoint after 60s")
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(tc.sig)
			err := cmd.Wait()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != tc.code {
				t.Fatalf("exit: %v, want code %d", err, tc.code)
			}
			want := "lepton: interrupted (" + tc.name + "): checkpoint saved; resume with: lepton train --resume " + run + "\n"
			if stderr.String() != want {
				t.Errorf("stderr %q, want %q", stderr.String(), want)
			}
			var rep struct {
				Status string `json:"status"`
				Epochs int    `json:"epochs"`
			}
			b, err := os.ReadFile(filepath.Join(run, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(b, &rep)
			if rep.Status != "interrupted" || rep.Epochs >= 400 {
				t.Fatalf("report %+v, want interrupted before epoch 400", rep)
			}
			if _, err := checkpoint.Load(last); err != nil {
				t.Fatalf("last checkpoint unreadable after %v: %v", tc.sig, err)
			}
			if _, err := os.Stat(filepath.Join(run, ".lock")); !os.IsNotExist(err) {
				t.Errorf("lock not released: %v", err)
			}
			out, err := exec.Command(bin, "train", "--resume", run, "--epochs", "5", "--data", dataDir, "--quiet").CombinedOutput()
			if rep.Epochs >= 5 {
				// Already past 5 epochs: resuming with fewer epochs finishes at once.
				t.Logf("interrupted after %d epochs", rep.Epochs)
			}
			if err != nil {
				t.Fatalf("resume: %v\n%s", err, out)
			}
			b, _ = os.ReadFile(filepath.Join(run, "report.json"))
			json.Unmarshal(b, &rep)
			if rep.Status != "finished" {
				t.Fatalf("after resume: status %q", rep.Status)
			}
		})
	}
}

// TestResumeRaceOneWins starts 8 "lepton train --resume RUN" processes at
// once: exactly one trains, the others exit 5 saying the directory is in
// use, and the one left is interrupted cleanly.
func TestResumeRaceOneWins(t *testing.T) {
	bin := buildLepton(t)
	dataDir := cifartest.Toy(t, 400, 50, 1)
	run := filepath.Join(t.TempDir(), "run")
	out, err := exec.Command(bin, "train", "--config", writeConfig(t, toyConfig), "--data", dataDir, "--out", run, "--epochs", "1", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("train: %v\n%s", err, out)
	}
	const procs = 8
	cmds := make([]*exec.Cmd, procs)
	errs := make([]*strings.Builder, procs)
	done := make(chan int, procs)
	for i := range cmds {
		cmds[i] = exec.Command(bin, "train", "--resume", run, "--epochs", "100000", "--data", dataDir, "--quiet")
		errs[i] = &strings.Builder{}
		cmds[i].Stderr = errs[i]
	}
	for i, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill() })
		go func() { c.Wait(); done <- i }()
	}
	refused := 0
	finished := make(map[int]bool)
	deadline := time.After(60 * time.Second)
	for refused < procs-1 {
		select {
		case i := <-done:
			finished[i] = true
			code := cmds[i].ProcessState.ExitCode()
			if code != exitRunExists || !strings.Contains(errs[i].String(), "run directory is in use by process") {
				t.Fatalf("racer %d: exit %d, stderr %q; want exit %d, in use", i, code, errs[i].String(), exitRunExists)
			}
			refused++
		case <-deadline:
			t.Fatalf("after 60s, %d of %d racers refused", refused, procs)
		}
	}
	winner := -1
	for i := range cmds {
		if !finished[i] {
			winner = i
		}
	}
	time.Sleep(200 * time.Millisecond)
	select {
	case i := <-done:
		t.Fatalf("the last racer %d exited early: %d %q", i, cmds[i].ProcessState.ExitCode(), errs[i].String())
	default:
	}
	cmds[winner].Process.Signal(syscall.SIGINT)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("winner ignored SIGINT")
	}
	if code := cmds[winner].ProcessState.ExitCode(); code != exitSIGINT {
		t.Errorf("winner: exit %d, want %d; stderr %q", code, exitSIGINT, errs[winner].String())
	}
}
