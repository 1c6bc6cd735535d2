//go:build unix

package imaging

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// TestLoadFileFIFO checks that a FIFO named as an image is refused at once;
// it used to block forever waiting for a writer.
func TestLoadFileFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipe.png")
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadFile(path, 0)
		done <- err
	}()
	select {
	case err := <-done:
		if want := "open " + path + ": not a regular file"; err == nil || err.Error() != want {
			t.Fatalf("LoadFile error %v, want %q", err, want)
		}
		if !errors.Is(err, regularfile.ErrNotRegular) {
			t.Errorf("error %v does not wrap regularfile.ErrNotRegular", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("LoadFile of a FIFO still blocked after 10s")
	}
}
