package data

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInfo(t *testing.T) {
	dir, _, _ := writeTestDir(t, 23, 12)
	tarPath := filepath.Join(t.TempDir(), "c.tar.gz")
	writeTarGz(t, tarPath, dirMembers(t, dir, ArchiveDir+"/"))
	tests := []struct {
		name, src, location string
	}{
		{name: "dir", src: dir, location: "data dir " + dir},
		{name: "tarball", src: tarPath, location: "archive " + tarPath},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Info(context.Background(), Spec{Dir: tc.src})
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			if r.Location != tc.location {
				t.Errorf("Location = %q, want %q", r.Location, tc.location)
			}
			if r.Train.Images != 23 || r.Test.Images != 12 {
				t.Errorf("images = %d/%d, want 23/12", r.Train.Images, r.Test.Images)
			}
			// synth labels are i%10: 23 -> 3 of classes 0..2, 2 of the rest.
			for i, c := range DefaultClasses() {
				wantTrain, wantTest := 2, 1
				if i < 3 {
					wantTrain = 3
				}
				if i < 2 {
					wantTest = 2
				}
				if r.Train.PerClass[c] != wantTrain || r.Test.PerClass[c] != wantTest {
					t.Errorf("%s: %d/%d, want %d/%d", c, r.Train.PerClass[c], r.Test.PerClass[c], wantTrain, wantTest)
				}
			}
			if len(r.Files) != 7 {
				t.Fatalf("%d files, want 7", len(r.Files))
			}
			for i, f := range r.Files {
				b, err := os.ReadFile(filepath.Join(dir, AllFiles()[i]))
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if f.Name != AllFiles()[i] || f.Size != int64(len(b)) || f.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("file %d = %+v, want %s size %d", i, f, AllFiles()[i], len(b))
				}
			}

			var text bytes.Buffer
			if err := r.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{tc.location, "airplane", "truck", "total", "23", r.Files[0].SHA256, "test_batch.bin"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("text report lacks %q:\n%s", want, text.String())
				}
			}

			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			var back map[string]any
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"location", "classes", "train", "test", "files"} {
				if _, ok := back[k]; !ok {
					t.Errorf("JSON lacks key %q: %s", k, js)
				}
			}
			if !strings.Contains(string(js), `"per_class":{"airplane":3`) || !strings.Contains(string(js), `"sha256":"`) {
				t.Errorf("unexpected JSON: %s", js)
			}
		})
	}
}

func TestInfoErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{name: "bad label", setup: func(t *testing.T, dir string) {
			raw := binBytes(t, synth(2, 1))
			raw[RecordSize] = 10
			writeFile(t, filepath.Join(dir, "data_batch_4.bin"), raw)
		}, want: "data_batch_4.bin: record 1: label 10 out of range 0..9"},
		{name: "bad size", setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, TestFile), make([]byte, 3074))
		}, want: "test_batch.bin: size 3074 is not a multiple of 3073"},
		{name: "missing file", setup: func(t *testing.T, dir string) {
			removeFile(t, filepath.Join(dir, "data_batch_1.bin"))
		}, want: ": data_batch_1.bin: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, _ := writeTestDir(t, 10, 10)
			tc.setup(t, dir)
			_, err := Info(context.Background(), Spec{Dir: dir})
			if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want suffix %q", err, tc.want)
			}
		})
	}
}

// TestInfoFolder checks data info on an image folder: per-class counts,
// skipped and ignored files, the cache state before and after, and the
// text report naming them.
func TestInfoFolder(t *testing.T) {
	dir, broken := catsAndDogs(t)
	cache := t.TempDir()
	spec := Spec{Kind: KindFolder, Dir: dir, TestSplit: 0.25, CacheDir: cache}
	r, err := Info(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindFolder || r.Train.Images+r.Test.Images != 15 || r.Train.PerClass["cat"]+r.Test.PerClass["cat"] != 7 {
		t.Fatalf("report %+v", r)
	}
	if len(r.Skipped) != 3 || r.Skipped[0].Path != broken[0] || r.Ignored != 1 {
		t.Fatalf("skipped %v, ignored %d", r.Skipped, r.Ignored)
	}
	if r.Cache.State != CacheMissing || r.Load.FromCache || r.Load.Decoded != 18 || r.Load.ImagesPerSecond <= 0 {
		t.Fatalf("first info: cache %+v, load %+v", r.Cache, r.Load)
	}
	r, err = Info(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Cache.State != CacheValid || !r.Load.FromCache || len(r.Skipped) != 3 {
		t.Fatalf("second info: cache %+v, load %+v", r.Cache, r.Load)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"data set:  folder", "cat", "dog", "skipped files:  3", broken[1] + ": unexpected EOF", "cache:", "valid (" + r.Cache.Dir + ")", "read from the cache"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, text.String())
		}
	}
	spec.CacheDir = ""
	if r, err = Info(context.Background(), spec); err != nil || r.Cache.State != CacheOff {
		t.Fatalf("no cache: %+v, %v", r.Cache, err)
	}
}
