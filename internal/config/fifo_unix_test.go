//go:build unix

package config

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// TestLoadFIFO checks that a FIFO given as the config file is refused at
// once; it used to block forever waiting for a writer.
func TestLoadFIFO(t *testing.T) {
	inDir(t, nil)
	if err := syscall.Mkfifo("pipe.yaml", 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(LoadOptions{File: "pipe.yaml"})
		done <- err
	}()
	select {
	case err := <-done:
		if want := "open config pipe.yaml: not a regular file"; err == nil || err.Error() != want {
			t.Fatalf("Load error %v, want %q", err, want)
		}
		var ce *Error
		if !errors.As(err, &ce) || !errors.Is(err, regularfile.ErrNotRegular) {
			t.Errorf("error %v: want a *config.Error wrapping regularfile.ErrNotRegular", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load of a FIFO still blocked after 10s")
	}
}
