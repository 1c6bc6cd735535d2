package sweep

import (
	"path/filepath"
	"testing"
)

// TestShippedSweepsResolve: the sweep files under sweeps/ load and every
// trial of them resolves.
func TestShippedSweepsResolve(t *testing.T) {
	files, err := filepath.Glob("../../sweeps/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sweep files under sweeps/: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			trials, err := f.Resolve()
			if err != nil || len(trials) < 4 {
				t.Fatalf("%d trials, %v", len(trials), err)
			}
		})
	}
}
