//go:build unix

package runs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/rundir"
)

// TestFIFOsDoNotHang lists a run whose report.json, metrics.csv or
// config.yaml is a FIFO: reading it must fail (or skip it) at once instead
// of blocking forever on the open.
func TestFIFOsDoNotHang(t *testing.T) {
	for _, name := range []string{rundir.ReportFile, rundir.MetricsFile, rundir.ConfigFile} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "run")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{rundir.ReportFile, rundir.MetricsFile, rundir.ConfigFile} {
				if f == name {
					if err := syscall.Mkfifo(filepath.Join(dir, f), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			if name != rundir.ConfigFile {
				os.WriteFile(filepath.Join(dir, rundir.ConfigFile), []byte("name: x\n"), 0o644)
			}
			done := make(chan error, 1)
			go func() {
				_, _, err := List(parent)
				rundir.Status(dir)
				rundir.Holder(dir)
				done <- err
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("List: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("listing a run whose %s is a FIFO hangs", name)
			}
		})
	}
}
