package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestMkdir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "run")
	var during []string
	err := Mkdir(dir, 0o755, func(tmp string) error {
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("dir exists while fill runs: %v", err)
		}
		during = dirNames(t, parent)
		return WriteFile(filepath.Join(tmp, "config.yaml"), []byte("x"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(during) != 1 || during[0][0] != '.' {
		t.Fatalf("while filling, parent holds %q, want one hidden temporary directory", during)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err != nil || string(b) != "x" {
		t.Fatalf("content after Mkdir: %q, %v", b, err)
	}
	if got := dirNames(t, parent); len(got) != 1 || got[0] != "run" {
		t.Fatalf("parent holds %q, want only run", got)
	}

	tests := []struct {
		name   string
		fill   func(string) error
		wantIs error
	}{
		{name: "exists", fill: func(string) error { return nil }, wantIs: fs.ErrExist},
		{name: "fill fails", fill: func(string) error { return fs.ErrPermission }, wantIs: fs.ErrPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := dir
			if tc.name != "exists" {
				target = filepath.Join(parent, "other")
			}
			if err := Mkdir(target, 0o755, tc.fill); !errors.Is(err, tc.wantIs) {
				t.Fatalf("Mkdir: %v, want %v", err, tc.wantIs)
			}
			if got := dirNames(t, parent); len(got) != 1 || got[0] != "run" {
				t.Fatalf("parent holds %q after a failed Mkdir, want only run", got)
			}
		})
	}
}
