package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/report"
)

// TestDataInfoFolder runs "lepton data info --data DIR" on an image folder:
// the kind is detected, and the report gives per-class counts, skipped
// files and the cache state (missing, then valid).
func TestDataInfoFolder(t *testing.T) {
	dir := cifartest.ToyFolder(t, 60, 1)
	broken := filepath.Join(dir, "cat", "zero.png")
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_CACHE_HOME": t.TempDir()}
	r := runCLI(t, env, "data", "info", "--data", dir)
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	for _, w := range []string{"data set:  folder", "airplane", "truck", "skipped files:  1", broken + ": empty file", "cache:", "missing (", "decoded 61 files"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("output lacks %q:\n%s", w, r.out)
		}
	}
	if strings.Count(r.err, broken+": ") != 1 {
		t.Errorf("stderr should name the broken file once: %q", r.err)
	}
	r = runCLI(t, env, "data", "info", "--data", dir, "--output", "json")
	var rep data.InfoReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || r.code != exitOK {
		t.Fatalf("exit %d, %v: %s", r.code, err, r.out)
	}
	if rep.Cache == nil || rep.Cache.State != data.CacheValid || !rep.Load.FromCache || len(rep.Skipped) != 1 || rep.Train.Images+rep.Test.Images != 60 {
		t.Fatalf("second info: %+v %+v %+v", rep.Cache, rep.Load, rep.Skipped)
	}
	// The config's data section applies (here a 16x16 grey geometry).
	cfg := writeConfig(t, "data:\n  dataset: folder\n  image_size: [16, 16]\n  channels: 1\n")
	r = runCLI(t, env, "data", "info", "--config", cfg, "--data", dir, "--output", "json")
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil || rep.Geometry != (data.Geometry{Height: 16, Width: 16, Channels: 1}) {
		t.Fatalf("exit %d: %s %s", r.code, r.out, r.err)
	}
}

// TestTrainFolderCLI trains on a folder from the command line and checks
// report.json lists the broken file.
func TestTrainFolderCLI(t *testing.T) {
	dir := cifartest.ToyFolder(t, 90, 2)
	broken := filepath.Join(dir, "dog", "bad.jpg")
	if err := os.WriteFile(broken, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(t.TempDir(), "run")
	r := runCLI(t, map[string]string{"XDG_CACHE_HOME": t.TempDir()}, "train", "--set", "data.dataset=folder", "--set", "model.hidden=[16]",
		"--epochs", "2", "--data", dir, "--out", runDir, "--quiet")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	if strings.Count(r.err, broken+": ") != 1 {
		t.Errorf("stderr should name %s once: %q", broken, r.err)
	}
	rep, err := report.Read(report.Path(runDir))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Data == nil || len(rep.Data.Skipped) != 1 || rep.Data.Skipped[0].Path != broken || rep.Data.Kind != "folder" {
		t.Fatalf("report data %+v", rep.Data)
	}
}

// TestDataExitCodes checks that every data problem exits 3, in train, data
// info and data fetch, with messages naming the data directory; and that
// the data set's classes and geometry disagreeing with model.* exits 2.
func TestDataExitCodes(t *testing.T) {
	cut := cifartest.Toy(t, 20, 10, 1)
	if err := os.Remove(filepath.Join(cut, data.RecordsFile)); err != nil { // now every file must hold 10,000
		t.Fatal(err)
	}
	names := cifartest.Toy(t, 20, 10, 1)
	if err := os.WriteFile(filepath.Join(names, data.MetaFile), []byte("airplane\nautomobile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	size := cifartest.Toy(t, 20, 10, 1)
	if err := os.WriteFile(filepath.Join(size, "data_batch_5.bin"), make([]byte, 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	mnist := cifartest.ToyIDX(t, 20, 10, 1)
	offline := "http://127.0.0.1:1/" // nothing listens on port 1
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{name: "train on a cut batch file", args: []string{"train", "--data", cut, "--epochs", "1"}, code: exitData,
			want: []string{"data dir " + cut + ": data_batch_1.bin: 4 records, want 10000"}},
		{name: "info on a cut batch file", args: []string{"data", "info", "--data", cut}, code: exitData,
			want: []string{"data_batch_1.bin: 4 records, want 10000"}},
		{name: "train with too few class names", args: []string{"train", "--data", names}, code: exitData,
			want: []string{"data dir " + names + ": batches.meta.txt: want 10 non-empty class names, got 2"}},
		{name: "info with too few class names", args: []string{"data", "info", "--data", names}, code: exitData,
			want: []string{"batches.meta.txt: want 10 non-empty class names, got 2"}},
		{name: "size not a multiple", args: []string{"data", "info", "--data", size}, code: exitData,
			want: []string{"data dir " + size + ": data_batch_5.bin: size 5000 is not a multiple of 3073"}},
		{name: "fetch offline", args: []string{"data", "fetch", "mnist", "--data", t.TempDir(), "--url", offline}, code: exitData,
			want: []string{"cannot reach the network", "lepton data fetch mnist --from PATH", "LEPTON_DATA_DIR"}},
		{name: "fetch --if-missing keeps the real error", args: []string{"data", "fetch", "--if-missing", "--data", names, "--url", offline}, code: exitData,
			want: []string{"batches.meta.txt: want 10 non-empty class names, got 2"}},
		{name: "fetch --if-missing downloads what is missing", args: []string{"data", "fetch", "--if-missing", "--data", t.TempDir(), "--url", offline + "c.tar.gz"}, code: exitData,
			want: []string{"cannot reach the network"}},
		{name: "fetch an invalid copy", args: []string{"data", "fetch", "--data", t.TempDir(), "--from", size}, code: exitData,
			want: []string{"size 5000 is not a multiple of 3073"}},
		{name: "fetch a folder", args: []string{"data", "fetch", "folder"}, code: exitUsage, want: []string{"needs no fetch"}},
		{name: "unknown kind", args: []string{"data", "fetch", "imagenet"}, code: exitUsage, want: []string{`unknown data set "imagenet"`}},
		{name: "folder without a location", args: []string{"train", "--set", "data.dataset=folder"}, code: exitData,
			want: []string{"no image folder at"}},
		{name: "input against the data", args: []string{"train", "--set", "data.dataset=mnist", "--set", "model.input=3072", "--data", mnist}, code: exitUsage,
			want: []string{"model.input: is 3072, but the images of data set mnist (28x28, 1 channel) have 784 values"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args[0] == "train" {
				args = append(args, "--quiet")
			}
			r := runCLI(t, map[string]string{"HOME": t.TempDir()}, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.err)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr %q lacks %q", r.err, w)
				}
			}
			if n := strings.Count(strings.TrimSpace(r.err), "\n"); tc.code == exitData && n > 0 {
				t.Errorf("error takes %d lines: %q", n+1, r.err)
			}
		})
	}
}

// TestDataFetchFromSameFiles imports a directory onto itself: nothing is
// copied.
func TestDataFetchFromSameFiles(t *testing.T) {
	dir := cifartest.ToyIDX(t, 10, 5, 1)
	r := runCLI(t, nil, "data", "fetch", "mnist", "--data", dir, "--from", dir)
	if r.code != exitOK || !strings.Contains(r.err, "already installed in "+dir+" (same SHA-256): nothing copied") {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
}

// TestRealMNISTAndFashionCLI trains one short epoch on the real MNIST and
// Fashion-MNIST from the command line and checks the report.
func TestRealMNISTAndFashionCLI(t *testing.T) {
	for _, tc := range []struct {
		kind string
		min  float64
	}{{"mnist", 0.9}, {"fashion-mnist", 0.8}} {
		t.Run(tc.kind, func(t *testing.T) {
			dir := cifartest.Beside(t, tc.kind)
			runDir := filepath.Join(t.TempDir(), "run")
			r := runCLI(t, nil, "train", "--set", "data.dataset="+tc.kind, "--set", "model.hidden=[64]", "--epochs", "1",
				"--batch-size", "256", "--data", dir, "--out", runDir, "--quiet")
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			rep, err := report.Read(report.Path(runDir))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Test.Count != 10000 || rep.Test.Accuracy < tc.min || rep.Data.Geometry != (data.Geometry{Height: 28, Width: 28, Channels: 1}) {
				t.Fatalf("test %d images, accuracy %v, geometry %+v", rep.Test.Count, rep.Test.Accuracy, rep.Data.Geometry)
			}
		})
	}
}
