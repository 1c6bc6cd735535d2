//go:build unix

package checkpoint

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// TestLoadFIFO checks that a FIFO named as a checkpoint is refused at once;
// it used to block forever waiting for a writer.
func TestLoadFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "last.safetensors")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(path)
		done <- err
	}()
	select {
	case err := <-done:
		if want := "open checkpoint " + path + ": not a regular file"; err == nil || err.Error() != want {
			t.Fatalf("Load error %v, want %q", err, want)
		}
		if !errors.Is(err, regularfile.ErrNotRegular) || errors.Is(err, ErrCorrupt) {
			t.Errorf("error %v: want regularfile.ErrNotRegular, not ErrCorrupt", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load of a FIFO still blocked after 10s")
	}
}
