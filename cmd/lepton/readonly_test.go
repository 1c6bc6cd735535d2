package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readOnlyCommand returns a command running bin with args while dir is
// read-only, in a way that really fails to write even as root: a read-only
// bind mount in a private mount namespace (unshare) as root, permissions
// otherwise (root ignores them).
func readOnlyCommand(t *testing.T, dir, bin string, args ...string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return exec.Command(bin, args...)
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("running as root, a read-only directory needs unshare(1) for a read-only bind mount: %v", err)
	}
	script := `mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`
	return exec.Command(unshare, append([]string{"-m", "sh", "-c", script, "sh", dir, bin}, args...)...)
}

// TestReportReadOnlyRun checks that "lepton report" on a run it cannot
// write to prints the summary, says on stderr that the figures could not
// be redrawn, and exits 0.
func TestReportReadOnlyRun(t *testing.T) {
	_, runDir := trainToy(t, t.TempDir(), "toy")
	bin := buildLepton(t)
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			cmd := readOnlyCommand(t, runDir, bin, "report", runDir, "--output", output)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("report on a read-only run: %v\nstdout %s\nstderr %s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), "could not redraw the figures") || !strings.Contains(stderr.String(), "read-only file system") && !strings.Contains(stderr.String(), "permission denied") {
				t.Errorf("stderr %q does not say the figures could not be redrawn and why", stderr.String())
			}
			if n := strings.Count(strings.TrimSpace(stderr.String()), "\n"); n != 0 {
				t.Errorf("stderr is %d lines, want one: %q", n+1, stderr.String())
			}
			switch output {
			case "text":
				if !strings.Contains(stdout.String(), "test acc:") || !strings.Contains(stdout.String(), "figures:      - (could not redraw the figures: see stderr)") {
					t.Errorf("summary:\n%s", stdout.String())
				}
			case "json":
				var sum map[string]any
				if err := json.Unmarshal([]byte(stdout.String()), &sum); err != nil {
					t.Fatalf("JSON summary: %v\n%s", err, stdout.String())
				}
				if sum["test_acc"] == nil || sum["curves"] != nil || !strings.Contains(sum["figures_error"].(string), "could not redraw") {
					t.Errorf("JSON summary %v", sum)
				}
			}
		})
	}
}

// TestReportFigureBlocked covers the same in-process: a figure path taken
// by a directory cannot be replaced, whoever runs the test.
func TestReportFigureBlocked(t *testing.T) {
	_, runDir := trainToy(t, t.TempDir(), "toy")
	os.Remove(filepath.Join(runDir, "confusion.png"))
	if err := os.MkdirAll(filepath.Join(runDir, "confusion.png", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "report", runDir)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if !strings.Contains(r.out, "figures:      "+filepath.Join(runDir, "curves.png")+" (could not redraw the figures: see stderr)") {
		t.Errorf("summary:\n%s", r.out)
	}
	if !strings.HasPrefix(r.err, "lepton: "+runDir+": could not redraw the figures: ") || !strings.Contains(r.err, "confusion.png") {
		t.Errorf("stderr %q", r.err)
	}
}

// TestEvalPlotUnwritable checks that eval prints the metrics before a
// --plot that cannot be written fails (its parent is a file).
func TestEvalPlotUnwritable(t *testing.T) {
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	plotPath := filepath.Join(notDir, "confusion.png")
	r := runCLI(t, nil, "eval", "--checkpoint", filepath.Join(runDir, "checkpoints", "best.safetensors"), "--data", dataDir, "--output", "json", "--plot", plotPath)
	if r.code == 0 {
		t.Fatalf("eval --plot into a file's child: exit 0, stderr %q", r.err)
	}
	var rep struct {
		Accuracy *float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || rep.Accuracy == nil {
		t.Errorf("stdout lacks the metrics (%v): %q", err, r.out)
	}
	if !strings.Contains(r.err, "--plot: ") || !strings.Contains(r.err, plotPath) {
		t.Errorf("stderr %q does not name the plot", r.err)
	}
}
