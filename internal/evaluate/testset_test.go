package evaluate

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/model"
)

// TestFormat1Checkpoint evaluates the format 1 checkpoint written by the
// lepton before format 2 (testdata/format1.md) on the real CIFAR-10 test
// set, without --data as that lepton was run with --data: the report must
// be byte for byte what that lepton printed.
func TestFormat1Checkpoint(t *testing.T) {
	dir := cifartest.Dir(t)
	want, err := os.ReadFile("testdata/format1-eval.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load("testdata/format1.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if ck.Meta.FormatVersion != 1 {
		t.Fatalf("testdata/format1.safetensors is format %d", ck.Meta.FormatVersion)
	}
	var out, stderr bytes.Buffer
	rep, err := Run(context.Background(), Options{Checkpoint: "testdata/format1.safetensors", Data: DataOptions{Default: only(dir)},
		Output: "json", Stdout: &out, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("format 1 checkpoint: accuracy %.4f (top-3 %.4f) on %d images; %s", rep.Accuracy, rep.TopKAccuracy, rep.Count, strings.TrimSpace(stderr.String()))
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("report differs from the one format 1's lepton printed (accuracy %.4f)", rep.Accuracy)
	}
	if rep.Accuracy != 0.3726 || rep.Count != 10000 {
		t.Errorf("accuracy %v on %d images, want 0.3726 on 10000", rep.Accuracy, rep.Count)
	}
	if !strings.Contains(stderr.String(), "(the default data location)") {
		t.Errorf("stderr %q does not say which data it used", stderr.String())
	}
}

// only is a DataOptions.Default that knows one location, for CIFAR-10.
func only(dir string) func(string) string {
	return func(kind string) string {
		if kind == data.KindCIFAR10 {
			return dir
		}
		return ""
	}
}

// catDog is a model of two classes over 32x32 RGB images.
func catDog(t *testing.T) *classifier.Model {
	t.Helper()
	spec := model.Spec{Input: data.CIFARGeometry.Size(), Classes: 2, Activation: "relu", Init: "he"}
	p, err := model.NewParams(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	return newCIFAR(t, spec, p, data.Stats{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}, []string{"cat", "dog"})
}

// TestTestSet checks which test set eval takes without --images: the
// checkpoint's data set, --data, or the default location for CIFAR-10, and
// that a data set of other class names is refused.
func TestTestSet(t *testing.T) {
	toy := cifartest.Toy(t, 10, 20, 3)
	other := cifartest.Toy(t, 10, 30, 4)
	missing := filepath.Join(t.TempDir(), "gone")
	tests := []struct {
		name       string
		model      func(*testing.T) *classifier.Model
		src        checkpoint.DataSource
		dir        string
		fallback   string
		wantN      int
		wantStderr string
		wantErr    string
		wantIs     error
	}{
		{name: "the checkpoint's data set", model: randomModel, src: checkpoint.DataSource{Dataset: "cifar10", Location: toy}, fallback: other,
			wantN: 20, wantStderr: "evaluating on the test set of cifar10 " + toy + " (the checkpoint's data set)"},
		{name: "--data wins", model: randomModel, src: checkpoint.DataSource{Dataset: "cifar10", Location: toy}, dir: other,
			wantN: 30, wantStderr: ""},
		{name: "recorded location gone: the default", model: randomModel, src: checkpoint.DataSource{Dataset: "cifar10", Location: missing}, fallback: toy,
			wantN: 20, wantStderr: "(the default data location; the checkpoint's " + missing + " does not exist)"},
		{name: "none recorded (format 1): the default", model: randomModel, fallback: toy, wantN: 20, wantStderr: "(the default data location)"},
		{name: "recorded location gone and no default", model: randomModel, src: checkpoint.DataSource{Dataset: "cifar10", Location: missing},
			wantIs: data.ErrNoData},
		{name: "recorded location gone, the default empty", model: randomModel, src: checkpoint.DataSource{Dataset: "cifar10", Location: missing}, fallback: t.TempDir(),
			wantIs: data.ErrNoData, wantErr: "the checkpoint's cifar10 data set " + missing + " does not exist, and no CIFAR-10 data in"},
		{name: "no location at all", model: randomModel, wantErr: "the checkpoint records no location of its cifar10 data set: give --data DIR or --images DIR"},
		{name: "other class names", model: catDog, src: checkpoint.DataSource{Dataset: "cifar10", Location: toy}, wantIs: data.ErrInvalid,
			wantErr: "the cifar10 data set at " + toy + " has classes [airplane automobile bird cat deer ... (10 classes)], the checkpoint [cat dog]: not the data the model was trained on"},
		{name: "another kind's files", model: randomModel, src: checkpoint.DataSource{Dataset: "mnist", Location: toy}, wantIs: data.ErrNoData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.model(t)
			defer m.Close()
			m.Data = tc.src
			var stderr bytes.Buffer
			ds, err := TestSet(context.Background(), m, DataOptions{Dir: tc.dir, Default: only(tc.fallback)}, &stderr)
			if tc.wantErr != "" || tc.wantIs != nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (tc.wantIs != nil && !errors.Is(err, tc.wantIs)) {
					t.Fatalf("error %v, want %q (%v)", err, tc.wantErr, tc.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != tc.wantN || !strings.Contains(stderr.String(), tc.wantStderr) || (tc.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("%d images, stderr %q; want %d and %q", ds.Len(), stderr.String(), tc.wantN, tc.wantStderr)
			}
		})
	}
}

// TestRunWithoutData runs a saved checkpoint (format 2, recording its data
// set) without --data: it is measured on the recorded test set.
func TestRunWithoutData(t *testing.T) {
	toy := cifartest.Toy(t, 10, 40, 9)
	m := randomModel(t)
	defer m.Close()
	m.Data = checkpoint.DataSource{Dataset: "cifar10", Location: toy}
	path := save(t, m)
	var out, stderr bytes.Buffer
	rep, err := Run(context.Background(), Options{Checkpoint: path, Stdout: &out, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	test, err := data.LoadTest(toy)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Evaluate(context.Background(), test, 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count != 40 || rep.Accuracy != want.Report.Accuracy {
		t.Errorf("report count %d accuracy %v, want 40 and %v", rep.Count, rep.Accuracy, want.Report.Accuracy)
	}
}

// TestImagesGreyModel measures a 28x28 grey model on a folder of RGB
// images of other sizes: each is converted to the model's input (resized
// with imaging.Planar, the folder loader's resampler, and made grey).
func TestImagesGreyModel(t *testing.T) {
	g := data.Geometry{Height: 28, Width: 28, Channels: 1}
	spec := model.Spec{Input: g.Size(), Hidden: []int{8}, Classes: 2, Activation: "relu", Init: "he"}
	p, err := model.NewParams(spec, 2)
	if err != nil {
		t.Fatal(err)
	}
	m, err := classifier.New(spec, p, g, data.Stats{Mean: []float32{0.5}, Std: []float32{0.25}}, []string{"dark", "light"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	dir := t.TempDir()
	for i, c := range []string{"dark", "light", "light"} {
		img := image.NewRGBA(image.Rect(0, 0, 40+i*13, 30))
		for y := range 30 {
			for x := range img.Bounds().Dx() {
				v := uint8(40 + 150*i + x%7)
				img.SetRGBA(x, y, color.RGBA{v, v / 2, 255 - v, 255})
			}
		}
		writeImage(t, filepath.Join(dir, c, string(rune('a'+i))+".png"), img)
	}
	var srcs []image.Image
	for i := range 3 {
		srcs = append(srcs, readImage(t, filepath.Join(dir, []string{"dark", "light", "light"}[i], string(rune('a'+i))+".png")))
	}
	var stderr bytes.Buffer
	ds, err := LoadImageFolder(context.Background(), dir, m.Classes, m.ImageShape(), 2, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Geometry != g || ds.Len() != 3 {
		t.Fatalf("folder loaded as %s x %d, want %s x 3", ds.Geometry, ds.Len(), g)
	}
	for i, src := range srcs {
		if want := imaging.Planar(src, 28, 28, 1, imaging.Stretch); !bytes.Equal(ds.Image(i), want) {
			t.Errorf("image %d is not the 28x28 grey conversion of its file", i)
		}
	}
	rep, err := Run(context.Background(), Options{Model: m, Images: dir, Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count != 3 {
		t.Errorf("count %d", rep.Count)
	}
}

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

func readImage(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
