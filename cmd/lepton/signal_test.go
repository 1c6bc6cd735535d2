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
