package predict

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testdata is the absolute path of testdata/ (tests may change directory).
var testdata = func() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "testdata")
}()

// exactModel is a linear model whose logit c is exactly the red value of
// pixel c divided by 255 (mean 0, std 1, one weight of 1 per class), so
// its outputs are the same bit for bit on every machine.
func exactModel(t testing.TB) *classifier.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // CIFAR-10's; a run fits them to its data
	cfg.Model.Hidden = nil
	spec := cfg.Model.Spec()
	p, err := model.NewParams(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	l := &p.Layers[0]
	clear(l.W)
	for c := 0; c < l.Out; c++ {
		l.W[c*l.Out+c] = 1 // input pixel c -> class c
	}
	return newCIFAR(t, cfg.Model.Spec(), p, data.Stats{Mean: []float32{0, 0, 0}, Std: []float32{1, 1, 1}}, data.DefaultClasses())
}

// randomModel is a small MLP with random weights.
func randomModel(t testing.TB) *classifier.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // CIFAR-10's; a run fits them to its data
	cfg.Model.Hidden = []int{32, 16}
	p, err := model.NewParams(cfg.Model.Spec(), 7)
	if err != nil {
		t.Fatal(err)
	}
	stats := data.Stats{Mean: []float32{0.49, 0.48, 0.45}, Std: []float32{0.25, 0.24, 0.26}}
	return newCIFAR(t, cfg.Model.Spec(), p, stats, data.DefaultClasses())
}

// cifarImage returns image seed in CIFAR layout: the first ten red pixels
// spell out the seed, the rest is a pattern.
func cifarImage(seed int) []byte {
	img := make([]byte, imaging.Size)
	for i := range img {
		img[i] = byte((i*7 + seed*13) % 251)
	}
	for c := 0; c < 10; c++ {
		img[c] = byte((seed*37 + c*c*11) % 256)
	}
	return img
}

func writePNG(t testing.TB, path string, chw []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, imaging.FromCIFAR(chw)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(testdata, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// tree lays out a directory of images: a/1.png, a/b/2.PNG, a/b/3.jpeg
// (really a PNG: decoders sniff the content), a/notes.txt, and returns
// its root.
func tree(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "imgs")
	writePNG(t, filepath.Join(dir, "a", "1.png"), cifarImage(1))
	writePNG(t, filepath.Join(dir, "a", "b", "2.PNG"), cifarImage(2))
	writePNG(t, filepath.Join(dir, "a", "b", "3.jpeg"), cifarImage(3))
	writePNG(t, filepath.Join(dir, "0.gif"), cifarImage(4))
	os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("not an image"), 0o644)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	return dir
}

func TestInputs(t *testing.T) {
	dir := tree(t)
	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte(filepath.Join(dir, "a", "1.png")+"\r\n\n"+filepath.Join(dir, "a", "b")+"\n"), 0o644)
	rel := func(ins []Input) string {
		var s []string
		for _, in := range ins {
			p, _ := filepath.Rel(dir, in.Path)
			if in.Path == "-" {
				p = "-"
			}
			if in.Err != nil {
				p += "!" + strings.ReplaceAll(in.Err.Error(), dir, "DIR")
			}
			s = append(s, p)
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		name      string
		paths     []string
		filesFrom string
		stdin     string
		want      string
	}{
		{name: "directory, recursive and sorted, images only", paths: []string{dir},
			want: "0.gif a/1.png a/b/2.PNG a/b/3.jpeg"},
		{name: "explicit files kept as given", paths: []string{filepath.Join(dir, "a", "notes.txt"), "-", filepath.Join(dir, "missing.png")},
			want: "a/notes.txt - missing.png"},
		{name: "empty directory is an error input", paths: []string{filepath.Join(dir, "empty")},
			want: "empty!DIR/empty: no image files (.png .jpg .jpeg .gif .bmp .webp) in the directory"},
		{name: "files-from file, CRLF and blank lines, directories expanded", filesFrom: list, paths: []string{filepath.Join(dir, "0.gif")},
			want: "0.gif a/1.png a/b/2.PNG a/b/3.jpeg"},
		{name: "files-from stdin", filesFrom: "-", stdin: filepath.Join(dir, "a", "b", "3.jpeg") + "\n" + filepath.Join(dir, "0.gif"),
			want: "a/b/3.jpeg 0.gif"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Inputs(tc.paths, tc.filesFrom, strings.NewReader(tc.stdin))
			if err != nil {
				t.Fatal(err)
			}
			if s := rel(got); s != tc.want {
				t.Errorf("got  %s\nwant %s", s, tc.want)
			}
		})
	}
	if _, err := Inputs(nil, filepath.Join(dir, "nope.txt"), nil); err == nil || !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("missing --files-from list: err %v", err)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Output: "json"}, ""},
		{Options{Output: "csv", Logits: true}, ""},
		{Options{Output: "xml"}, `--output "xml": want one of text, json, csv`},
		{Options{Logits: true}, "--logits needs --output json or csv"},
		{Options{Output: "json", FilesFrom: "-", Paths: []string{"-"}}, "standard input cannot be both"},
	}
	for _, tc := range tests {
		err := tc.opts.Check()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Check(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// TestRunFormats checks each output format against a golden file, with
// two good images, a non-image, a missing file and an empty directory.
func TestRunFormats(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "imgs", "x.png"), cifarImage(1))
	writePNG(t, filepath.Join(dir, "imgs", "y.png"), cifarImage(2))
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	t.Chdir(dir) // relative paths keep the golden files machine-independent
	m := exactModel(t)
	tests := []struct {
		name   string
		output string
		logits bool
		topK   int
	}{
		{"text", "text", false, 3},
		{"json", "json", false, 2},
		{"json-logits", "json", true, 1},
		{"csv", "csv", false, 3},
		{"csv-logits", "csv", true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Run(context.Background(), Options{
				Model: m, Paths: []string{"imgs", "notes.txt", "missing.png", "empty"},
				Output: tc.output, Logits: tc.logits, TopK: tc.topK,
				Stdout: &out, Stderr: &errb,
			})
			if !errors.Is(err, ErrSomeFailed) || !strings.Contains(err.Error(), "3 of 5 inputs") {
				t.Errorf("err %v, want 3 of 5 inputs failed", err)
			}
			golden(t, "run-"+tc.name+".golden", out.Bytes())
			wantErr := "lepton: notes.txt: image: unknown format\n" +
				"lepton: open missing.png: no such file or directory\n" +
				"lepton: empty: no image files (.png .jpg .jpeg .gif .bmp .webp) in the directory\n"
			if errb.String() != wantErr {
				t.Errorf("stderr:\n%s\nwant\n%s", errb.String(), wantErr)
			}
			if tc.output == "csv" {
				rows, err := csv.NewReader(&out).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 6 || strings.Join(rows[0], ",") != strings.Join(CSVHeader(m.Classes, tc.topK, tc.logits), ",") {
					t.Errorf("csv rows %q", rows)
				}
			}
		})
	}
}

// TestExactLogits checks the logits against the model's definition: logit
// c is pixel c's red value / 255.
func TestExactLogits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	img := cifarImage(5)
	writePNG(t, path, img)
	var out bytes.Buffer
	if err := Run(context.Background(), Options{Model: exactModel(t), Paths: []string{path}, Output: "json", Logits: true, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	for c := range 10 {
		if want := float32(img[c]) / 255; r.Logits[c] != want {
			t.Errorf("logit %d = %v, want %v", c, r.Logits[c], want)
		}
	}
	p := model.Softmax(r.Logits)
	if got, want := r.Top[0].Probability, p[model.Argmax(r.Logits)]; got != want {
		t.Errorf("top probability %v, softmax of the logits %v", got, want)
	}
}

// TestRunOrderAtScale classifies more images than one batch with several
// decoders and checks every line against the model run directly.
func TestRunOrderAtScale(t *testing.T) {
	dir := t.TempDir()
	const n = 1234
	imgs := make([][]byte, n)
	var list strings.Builder
	for i := range n {
		imgs[i] = cifarImage(i)
		p := filepath.Join(dir, fmt.Sprintf("%d.png", i)) // not sorted: 10.png < 2.png
		writePNG(t, p, imgs[i])
		fmt.Fprintln(&list, p)
	}
	m := randomModel(t)
	want := make([][]float32, n)
	if err := m.Logits(context.Background(), n,
		func(i int, dst []float32) { m.Stats.Normalize(dst, imgs[i]) },
		func(i int, l []float32) { want[i] = append([]float32(nil), l...) }); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 4} {
		var out bytes.Buffer
		err := Run(context.Background(), Options{
			Model: m, FilesFrom: "-", Stdin: strings.NewReader(list.String()),
			Output: "json", Logits: true, Workers: workers, Stdout: &out,
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != n {
			t.Fatalf("%d lines, want %d", len(lines), n)
		}
		for i, line := range lines {
			var r Result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.Path != filepath.Join(dir, fmt.Sprintf("%d.png", i)) {
				t.Fatalf("workers %d: line %d is %s", workers, i, r.Path)
			}
			for c := range want[i] {
				if math.Abs(float64(r.Logits[c]-want[i][c])) > 1e-6 {
					t.Fatalf("workers %d: %s logit %d = %v, direct %v", workers, r.Path, c, r.Logits[c], want[i][c])
				}
			}
		}
	}
}

func TestRunStdinImage(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, imaging.FromCIFAR(cifarImage(9)))
	var out bytes.Buffer
	err := Run(context.Background(), Options{Model: exactModel(t), Paths: []string{"-", "-"}, Stdin: &b, Stdout: &out, Stderr: &bytes.Buffer{}, TopK: 1})
	if !errors.Is(err, ErrSomeFailed) {
		t.Errorf("second - should fail: %v", err)
	}
	if got := out.String(); !strings.HasPrefix(got, "-\t") || strings.Count(got, "\n") != 1 {
		t.Errorf("stdout %q", got)
	}
}

func TestRunCanceled(t *testing.T) {
	dir := tree(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, Options{Model: exactModel(t), Paths: []string{dir}, Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

// BenchmarkPredictPNG classifies 500 32x32 PNG files from a directory
// with the reference MLP's shape and reports images/s.
func BenchmarkPredictPNG(b *testing.B) {
	dir := b.TempDir()
	const n = 500
	for i := range n {
		writePNG(b, filepath.Join(dir, fmt.Sprintf("%03d.png", i)), randomImage(i))
	}
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // CIFAR-10's; a run fits them to its data
	cfg.Model.Hidden = []int{128, 64, 32, 16}
	p, err := model.NewParams(cfg.Model.Spec(), 1)
	if err != nil {
		b.Fatal(err)
	}
	m := newCIFAR(b, cfg.Model.Spec(), p, data.Stats{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}, data.DefaultClasses())
	defer m.Close()
	b.ResetTimer()
	for range b.N {
		if err := Run(context.Background(), Options{Model: m, Paths: []string{dir}, Output: "csv", Stdout: discard{}, Stderr: discard{}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}

// randomImage is a noisy image, so PNG files have a realistic size.
func randomImage(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	x := uint32(seed*2654435761 + 1)
	for i := 0; i < 32*32; i++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Set(i%32, i/32, color.RGBA{R: byte(x), G: byte(x >> 8), B: byte(x >> 16), A: 255})
	}
	return imaging.ToCIFAR(img)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestNaNModelPrintsValidJSON predicts with a model whose weights are NaN
// (a diverged run's): every JSON line parses, with "NaN" probabilities and
// logits, where encoding/json used to fail with "unsupported value: NaN".
func TestNaNModelPrintsValidJSON(t *testing.T) {
	m := exactModel(t)
	m.Params.Layers[0].W[0] = float32(math.NaN())
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	writePNG(t, path, cifarImage(3))
	for _, logits := range []bool{false, true} {
		var out bytes.Buffer
		if err := Run(context.Background(), Options{Model: m, Paths: []string{path}, Output: "json", Logits: logits, Stdout: &out}); err != nil {
			t.Fatalf("predict: %v", err)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("invalid JSON: %s", out.String())
		}
		var r Result
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Top) == 0 || !math.IsNaN(r.Top[0].Probability) || (logits && !math.IsNaN(float64(r.Logits[0]))) {
			t.Fatalf("read back %+v from %s", r, out.String())
		}
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
