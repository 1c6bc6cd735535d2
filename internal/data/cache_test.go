package data

import (
	"bytes"
	"context"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFolderCache checks decode-once: the second open reads the cache and
// gives the same images and skipped files; a changed, added or removed file
// makes it decode again.
func TestFolderCache(t *testing.T) {
	dir, broken := catsAndDogs(t)
	cacheDir := t.TempDir()
	load := func() (*Dataset, []Skipped, string, *folder) {
		t.Helper()
		var progress, log bytes.Buffer
		src, err := Open(Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.25, CacheDir: cacheDir, Progress: &progress, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		d, err := src.Split(context.Background(), SplitTrain)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(log.String(), broken[1]+": ") != 1 {
			t.Fatalf("the truncated file is not named once:\n%s", log.String())
		}
		f := src.(*folder)
		return d, SkippedOf(src), f.loaded.cache.State, f
	}
	first, skipped, state, f := load()
	if state != CacheWritten {
		t.Fatalf("first load: cache %s", state)
	}
	manifests, _ := filepath.Glob(filepath.Join(cacheDir, "folders", "*", "manifest.json"))
	images, _ := filepath.Glob(filepath.Join(cacheDir, "folders", "*", "images-*.u8"))
	if len(manifests) != 1 || len(images) != 1 {
		t.Fatalf("cache holds %q and %q", manifests, images)
	}
	if fc := f.cache(); fc.state(f) != CacheValid {
		t.Fatalf("cache state %s after writing", fc.state(f))
	}
	second, skipped2, state, _ := load()
	if state != CacheUsed {
		t.Fatalf("second load: cache %s", state)
	}
	equalDataset(t, second, first)
	if !slices.Equal(skipped2, skipped) {
		t.Fatalf("skipped %v from the cache, %v decoded", skipped2, skipped)
	}
	for _, change := range []struct {
		name string
		do   func()
	}{
		{"touched", func() {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(dir, "cat", "ca.png"), later, later); err != nil {
				t.Fatal(err)
			}
		}},
		{"added", func() { encode(t, filepath.Join(dir, "dog", "new.png"), flat(9, 9, color.RGBA{B: 200, A: 255}, false)) }},
		{"removed", func() { removeFile(t, filepath.Join(dir, "dog", "new.png")) }},
		{"fixed", func() { encode(t, broken[2], flat(9, 9, color.RGBA{B: 200, A: 255}, false)) }},
	} {
		change.do()
		_, skipped, state, f := load()
		if state != CacheWritten {
			t.Fatalf("%s file: cache %s, want written", change.name, state)
		}
		if change.name == "fixed" && len(skipped) != 2 {
			t.Fatalf("fixed file still skipped: %v", skipped)
		}
		if _, _, state, _ = load(); state != CacheUsed {
			t.Fatalf("%s file: the rewritten cache is not used (%s)", change.name, state)
		}
		if images, _ := filepath.Glob(filepath.Join(f.cache().dir, "images-*.u8")); len(images) != 1 {
			t.Fatalf("%s: old images files left: %q", change.name, images)
		}
	}
	// Another geometry is another cache.
	src, err := Open(Spec{Kind: KindFolder, Dir: dir, Height: 16, Width: 16, TestSplit: 0.25, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Split(context.Background(), SplitTrain); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(cacheDir, "folders", "*", "manifest.json")); len(m) != 2 {
		t.Fatalf("%d caches, want 2", len(m))
	}
}
