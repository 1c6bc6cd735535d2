package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// exactModel's logit c is the red value of pixel c / 255: deterministic on
// every machine.
func exactModel(t *testing.T) *classifier.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // CIFAR-10's; a run fits them to its data
	cfg.Model.Hidden = nil
	p, err := model.NewParams(cfg.Model.Spec(), 1)
	if err != nil {
		t.Fatal(err)
	}
	l := &p.Layers[0]
	clear(l.W)
	for c := 0; c < l.Out; c++ {
		l.W[c*l.Out+c] = 1
	}
	return newCIFAR(t, cfg.Model.Spec(), p, data.Stats{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}, data.DefaultClasses())
}

func randomModel(t *testing.T) *classifier.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // CIFAR-10's; a run fits them to its data
	cfg.Model.Hidden = []int{24}
	p, err := model.NewParams(cfg.Model.Spec(), 3)
	if err != nil {
		t.Fatal(err)
	}
	return newCIFAR(t, cfg.Model.Spec(), p, data.Stats{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}, data.DefaultClasses())
}

func save(t *testing.T, m *classifier.Model) string {
	t.Helper()
	ck, err := m.Checkpoint(checkpoint.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	return path
}

// image i of class c: pixel c's red value is high for most images so the
// exact model mostly predicts c.
func labelled(c, i int) []byte {
	img := make([]byte, imaging.Size)
	for p := range img {
		img[p] = byte((p*5 + i*31 + c*17) % 200)
	}
	if i%4 != 3 {
		img[c] = 255
	} else {
		img[(c+1)%10] = 255 // every fourth image is confused with the next class
	}
	return img
}

func writePNG(t *testing.T, path string, chw []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, imaging.FromCIFAR(chw)); err != nil {
		t.Fatal(err)
	}
}

// folder writes n images per listed class (class folder names from
// DefaultClasses) and returns the root and the dataset it should load as.
func folder(t *testing.T, classes []int, n int) (string, *data.Dataset) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "imgs")
	names := data.DefaultClasses()
	want := &data.Dataset{Geometry: data.CIFARGeometry, Classes: names}
	for _, c := range classes { // ReadDir order: sorted by name
		for i := range n {
			img := labelled(c, i)
			sub := ""
			if i%2 == 1 {
				sub = "nested"
			}
			writePNG(t, filepath.Join(dir, names[c], sub, fmt.Sprintf("%02d.png", i)), img)
		}
	}
	// Expected order: per class folder, sorted paths ("00.png" < "nested/01.png").
	for _, c := range classes {
		var even, odd []int
		for i := range n {
			if i%2 == 0 {
				even = append(even, i)
			} else {
				odd = append(odd, i)
			}
		}
		for _, i := range append(even, odd...) {
			want.Images = append(want.Images, labelled(c, i)...)
			want.Labels = append(want.Labels, uint8(c))
		}
	}
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("ignored"), 0o644)
	os.MkdirAll(filepath.Join(dir, ".thumbnails"), 0o755)
	writePNG(t, filepath.Join(dir, ".thumbnails", "x.png"), labelled(0, 0))
	return dir, want
}

func TestLoadImageFolder(t *testing.T) {
	dir, want := folder(t, []int{1, 3, 8}, 5) // automobile, cat, ship
	var stderr bytes.Buffer
	ds, err := LoadImageFolder(context.Background(), dir, data.DefaultClasses(), imaging.CIFAR, 3, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ds.Labels, want.Labels) || !bytes.Equal(ds.Images, want.Images) || !reflect.DeepEqual(ds.Classes, want.Classes) {
		t.Errorf("loaded labels %v, want %v (images equal: %v)", ds.Labels, want.Labels, bytes.Equal(ds.Images, want.Images))
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"unknown class folder", func(t *testing.T, dir string) {
			writePNG(t, filepath.Join(dir, "cat", "a.png"), labelled(3, 0))
			writePNG(t, filepath.Join(dir, "kangaroo", "a.png"), labelled(3, 0))
		}, "folder DIR/kangaroo is not a class of the checkpoint (classes: airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck)"},
		{"image outside the class folders", func(t *testing.T, dir string) {
			writePNG(t, filepath.Join(dir, "cat", "a.png"), labelled(3, 0))
			writePNG(t, filepath.Join(dir, "stray.png"), labelled(3, 0))
		}, "DIR/stray.png is not in a class folder"},
		{"no images", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "cat"), 0o755)
			os.WriteFile(filepath.Join(dir, "cat", "notes.txt"), nil, 0o644)
		}, "no image files (.png .jpg .jpeg .gif .bmp .webp) under DIR/<class name>/"},
		{"unreadable image", func(t *testing.T, dir string) {
			writePNG(t, filepath.Join(dir, "cat", "a.png"), labelled(3, 0))
			os.WriteFile(filepath.Join(dir, "dog", "b.png"), []byte("junk"), 0o644)
		}, "1 of 2 images under DIR could not be read"},
		{"missing folder", func(t *testing.T, dir string) { os.RemoveAll(dir) }, "DIR: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "imgs")
			os.MkdirAll(filepath.Join(dir, "dog"), 0o755)
			tc.setup(t, dir)
			var stderr bytes.Buffer
			_, err := LoadImageFolder(context.Background(), dir, data.DefaultClasses(), imaging.CIFAR, 2, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.ReplaceAll(err.Error(), dir, "DIR"); !strings.Contains(got, tc.want) {
				t.Errorf("error %q lacks %q", got, tc.want)
			}
			if tc.name == "unreadable image" && !strings.Contains(stderr.String(), "b.png") {
				t.Errorf("stderr %q does not name the unreadable file", stderr.String())
			}
		})
	}
}

// TestRunImages evaluates a folder through Run, checks the text report
// against a golden file and the JSON report against Evaluate on the same
// images, and draws the confusion matrix.
func TestRunImages(t *testing.T) {
	dir, want := folder(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 8)
	m := exactModel(t)
	ck := save(t, m)
	direct, err := m.Evaluate(context.Background(), want, 3)
	if err != nil {
		t.Fatal(err)
	}

	var out, errb bytes.Buffer
	plotPath := filepath.Join(t.TempDir(), "cm.png")
	rep, err := Run(context.Background(), Options{Checkpoint: ck, Images: dir, Output: "text", Plot: plotPath, Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*rep, direct.Report) {
		t.Errorf("report %+v\nwant %+v", *rep, direct.Report)
	}
	if rep.Accuracy != 0.75 { // every fourth image is confused on purpose
		t.Errorf("accuracy %v, want 0.75", rep.Accuracy)
	}
	goldenPath := filepath.Join("testdata", "images-report.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(goldenPath, out.Bytes(), 0o644)
	}
	g, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(out.Bytes(), g) {
		t.Errorf("text report differs from %s:\n%s", goldenPath, out.String())
	}
	if !strings.Contains(errb.String(), "wrote the confusion matrix to "+plotPath) {
		t.Errorf("stderr %q", errb.String())
	}
	f, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("plot: %v", err)
	}

	out.Reset()
	if _, err := Run(context.Background(), Options{Checkpoint: ck, Images: dir, Output: "json", Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	var r metrics.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Count != 80 {
		t.Errorf("json report: %v, count %d", err, r.Count)
	}
}

// TestImagesMatchTestSet writes real CIFAR-10 test images as PNG class
// folders: evaluating the folder must give exactly the report of the same
// images read from the .bin file.
func TestImagesMatchTestSet(t *testing.T) {
	dataDir := cifartest.Dir(t)
	test, err := data.LoadTest(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	dir := filepath.Join(t.TempDir(), "imgs")
	var idx []int
	for _, c := range test.Classes { // the folder's order: class by class
		for i := 0; i < n; i++ {
			if test.Classes[test.Labels[i]] == c {
				idx = append(idx, i)
				writePNG(t, filepath.Join(dir, c, fmt.Sprintf("%05d.png", i)), test.Image(i))
			}
		}
	}
	m := randomModel(t)
	want, err := m.Evaluate(context.Background(), test.Subset(idx), 3)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Checkpoint: save(t, m), Images: dir, Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*rep, want.Report) {
		t.Errorf("folder report differs from the test set's:\n%+v\n%+v", *rep, want.Report)
	}
}

func TestRunBadFormat(t *testing.T) {
	_, err := Run(context.Background(), Options{Output: "xml"})
	if err == nil || !strings.Contains(err.Error(), `--output "xml"`) {
		t.Errorf("err %v", err)
	}
	var pe *os.PathError
	_, err = Run(context.Background(), Options{Checkpoint: filepath.Join(t.TempDir(), "none.safetensors")})
	if !errors.As(err, &pe) && !strings.Contains(err.Error(), "none.safetensors") {
		t.Errorf("missing checkpoint: %v", err)
	}
}

// newCIFAR is classifier.New for 32x32 RGB images, failing t on error.
func newCIFAR(t testing.TB, spec model.Spec, p *model.Params, stats data.Stats, classes []string) *classifier.Model {
	t.Helper()
	m, err := classifier.New(spec, p, data.CIFARGeometry, stats, classes)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
