//go:build unix

package data

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFolderFIFO checks that a FIFO named like an image is skipped as not
// a regular file instead of blocking the decoding (issue 10).
func TestFolderFIFO(t *testing.T) {
	dir, _ := catsAndDogs(t)
	fifo := filepath.Join(dir, "dog", "pipe.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), src, 0, 1); err != nil {
		t.Fatal(err)
	}
	for _, s := range SkippedOf(src) {
		if s.Path == fifo {
			if s.Reason != "not a regular file" {
				t.Fatalf("reason %q", s.Reason)
			}
			return
		}
	}
	t.Fatalf("the FIFO is not listed as skipped: %v", SkippedOf(src))
}
