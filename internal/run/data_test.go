package run

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// TestTrainFolder trains on an image folder with broken files: the run
// finishes, every broken file is named once on stderr and listed in
// report.json's data.skipped, config.yaml records the data, and the second
// run reads the decoded images from the cache.
func TestTrainFolder(t *testing.T) {
	dir := cifartest.ToyFolder(t, 240, 3)
	broken := []string{filepath.Join(dir, "cat", "broken.jpg"), filepath.Join(dir, "dog", "more", "empty.png")}
	if err := os.WriteFile(broken[0], []byte("\xff\xd8\xff\xe0 not really a JPEG"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken[1], nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	train := func(out string) (string, *report.Report) {
		t.Helper()
		var stderr bytes.Buffer
		cfg := toyConfig(t, "data.dataset=folder", "data.test_split=0.25")
		runDir, err := Train(context.Background(), Options{Config: cfg, DataDir: dir, DataCache: cache, OutDir: out, Stderr: &stderr})
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		for _, p := range broken {
			if n := strings.Count(stderr.String(), p+": "); n != 1 {
				t.Errorf("%s named %d times on stderr:\n%s", p, n, stderr.String())
			}
		}
		rep, err := report.Read(report.Path(runDir))
		if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), rep
	}
	stderr, rep := train(filepath.Join(t.TempDir(), "a"))
	if rep.Status != report.StatusFinished || rep.Data == nil || rep.Data.Kind != "folder" || rep.Data.Location != dir {
		t.Fatalf("report %+v data %+v", rep.Status, rep.Data)
	}
	var skipped []string
	for _, s := range rep.Data.Skipped {
		skipped = append(skipped, s.Path)
	}
	if !slices.Equal(skipped, broken) {
		t.Fatalf("report.json skipped %q, want %q", skipped, broken)
	}
	if rep.TrainImages+rep.ValImages+rep.Test.Count != 240 || rep.Test.Accuracy < 0.25 { // chance is 0.1
		t.Errorf("%d+%d+%d images, test accuracy %v", rep.TrainImages, rep.ValImages, rep.Test.Count, rep.Test.Accuracy)
	}
	if !strings.Contains(stderr, "decoded 242 images of folder "+dir) {
		t.Errorf("stderr lacks the decoding figures:\n%s", stderr)
	}
	stderr, _ = train(filepath.Join(t.TempDir(), "b"))
	if !strings.Contains(stderr, "read 240 decoded images of folder "+dir+" from the cache") {
		t.Errorf("second run did not use the cache:\n%s", stderr)
	}
}

// TestTrainIDX trains on grey 28x28 IDX data: the config follows the data
// (784 inputs, its classes), the checkpoint holds one normalization
// channel, and the run resumes.
func TestTrainIDX(t *testing.T) {
	dir := cifartest.ToyIDX(t, 200, 50, 2)
	out := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, "data.dataset=mnist", "train.epochs=2"), DataDir: dir, OutDir: out, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{File: filepath.Join(out, rundir.ConfigFile)})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Model.Input != 784 || cfg.Model.Classes != 10 || cfg.Data.Channels != 1 || !slices.Equal(cfg.Data.ImageSize, []int{28, 28}) || cfg.Data.Dir != dir {
		t.Fatalf("config.yaml: data %+v, model input %d classes %d", cfg.Data, cfg.Model.Input, cfg.Model.Classes)
	}
	m, _, err := classifier.Load(rundir.Best(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Stats.Mean) != 1 || m.Spec.Input != 784 || !slices.Equal(m.Classes, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}) {
		t.Fatalf("checkpoint: stats %+v, input %d, classes %q", m.Stats, m.Spec.Input, m.Classes)
	}
	// Resume with the stored config or with the original sets: both are
	// the same fitted config.
	if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dir, Resume: out, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	more := toyConfig(t, "data.dataset=mnist", "train.epochs=3")
	if _, err := Train(context.Background(), Options{Config: more, DataDir: dir, Resume: out, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	rep, err := report.Read(report.Path(out))
	if err != nil || rep.Epochs != 3 || rep.Data.Kind != "mnist" || rep.Data.Geometry.Channels != 1 {
		t.Fatalf("report %+v, %v", rep, err)
	}
}

// TestTrainDataMismatch checks that model.input or model.classes set
// against the data is a config error, before any run directory is made.
func TestTrainDataMismatch(t *testing.T) {
	dir := cifartest.ToyIDX(t, 20, 10, 2)
	for _, set := range []string{"model.input=3072", "model.classes=100"} {
		out := filepath.Join(t.TempDir(), "run")
		_, err := Train(context.Background(), Options{Config: toyConfig(t, "data.dataset=mnist", set), DataDir: dir, OutDir: out, Quiet: true})
		var ce *config.Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "data set mnist") {
			t.Fatalf("%s: err = %v, want a config error", set, err)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: the failed run made %s", set, out)
		}
	}
}

// TestResumeOnOtherData checks that a resume whose data gives another
// geometry than the checkpoint's is refused once the data is open, though
// the config leaves the geometry to the data.
func TestResumeOnOtherData(t *testing.T) {
	dir := cifartest.ToyIDX(t, 40, 10, 2)
	out := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Options{Config: toyConfig(t, "data.dataset=mnist", "train.epochs=1"), DataDir: dir, OutDir: out, Quiet: true}); err != nil {
		t.Fatal(err)
	}
	small := t.TempDir()
	g := data.Geometry{Height: 14, Width: 14, Channels: 1}
	rng := rand.New(rand.NewPCG(1, 1))
	if err := data.WriteIDXDir(small, cifartest.ToySet(g, 40, rng), cifartest.ToySet(g, 10, rng), true); err != nil {
		t.Fatal(err)
	}
	_, err := Train(context.Background(), Options{Config: toyConfig(t, "data.dataset=mnist", "train.epochs=2"), DataDir: small, Resume: out, Quiet: true})
	if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "model.input: 784 in the checkpoint, 196 now") {
		t.Fatalf("err = %v", err)
	}
}
