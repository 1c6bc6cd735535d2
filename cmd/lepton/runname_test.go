package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// TestConcurrentRunsGetDistinctDefaultDirs starts 20 "lepton train"
// processes at once with default run names (no --out): each must pick its
// own run directory and finish. The runs' start times mostly fall in the
// same second, which with the old "<name>-<timestamp>" names made all but
// one of them fail with exit 5.
func TestConcurrentRunsGetDistinctDefaultDirs(t *testing.T) {
	const n = 20
	bin := buildLepton(t)
	dataDir := cifartest.Toy(t, 100, 20, 1)
	parent := filepath.Join(t.TempDir(), "runs")
	cfg := writeConfig(t, "name: same\nmodel:\n  hidden: [8]\ntrain:\n  epochs: 1\n  batch_size: 40\n")
	type result struct {
		dir  string
		err  error
		logs string
	}
	results := make([]result, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range results {
		done.Add(1)
		go func() {
			defer done.Done()
			var out, errb bytes.Buffer
			cmd := exec.Command(bin, "train", "--config", cfg, "--data", dataDir, "--set", "output.dir="+parent, "--threads", "1", "--quiet")
			cmd.Stdout, cmd.Stderr = &out, &errb
			start.Wait()
			err := cmd.Run()
			results[i] = result{dir: strings.TrimSpace(out.String()), err: err, logs: errb.String()}
		}()
	}
	start.Done()
	done.Wait()

	seconds := map[string]int{}
	dirs := map[string]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Errorf("run %d: %v\n%s", i, r.err, r.logs)
			continue
		}
		if dirs[r.dir] {
			t.Errorf("run %d: directory %s was picked twice", i, r.dir)
		}
		dirs[r.dir] = true
		if !rundir.Finished(r.dir) {
			t.Errorf("run %d: %s is not a finished run", i, r.dir)
		}
		name := filepath.Base(r.dir)
		seconds[name[:len(name)-len("-01234567")]]++
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n || len(dirs) != n {
		t.Fatalf("%d run directories under %s (%d distinct on stdout), want %d", len(entries), parent, len(dirs), n)
	}
	t.Logf("%d distinct finished runs; runs per start second: %v", len(dirs), seconds)
}
