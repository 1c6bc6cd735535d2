package plot

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// out returns where a test figure goes: $LEPTON_PLOT_DIR when set (to look
// at the figures), else a temporary directory.
func out(t *testing.T, name string) string {
	t.Helper()
	if dir := os.Getenv("LEPTON_PLOT_DIR"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(t.TempDir(), name)
}

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	return img
}

// countColor counts the pixels within tol of c in every channel.
func countColor(img image.Image, c color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := func(v uint32, w uint8) bool { return abs(int(v>>8)-int(w)) <= tol }
			if d(r, c.R) && d(g, c.G) && d(bl, c.B) {
				n++
			}
		}
	}
	return n
}

// countBlue counts strongly blue pixels (the heatmap's upper range).
func countBlue(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 90 && bl>>8 > 120 {
				n++
			}
		}
	}
	return n
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func history(n int) []Epoch {
	h := make([]Epoch, n)
	for i := range h {
		e := float64(i + 1)
		h[i] = Epoch{
			Epoch:     i + 1,
			TrainLoss: 2.2 * math.Exp(-e/8),
			ValLoss:   2.0*math.Exp(-e/10) + 0.02*e,
			TrainAcc:  1 - 0.85*math.Exp(-e/9),
			ValAcc:    0.55 - 0.4*math.Exp(-e/5),
			LR:        1e-3 * 0.5 * (1 + math.Cos(math.Pi*float64(i)/float64(n))),
		}
	}
	return h
}

func TestCurves(t *testing.T) {
	diverged := history(6)
	diverged[4].TrainLoss, diverged[5].TrainLoss = math.NaN(), math.Inf(1)
	decay := history(30)
	for i := range decay {
		decay[i].LR = 0.1 * math.Pow(0.7, float64(i))
	}
	tests := []struct {
		name    string
		history []Epoch
	}{
		{"one epoch", history(1)},
		{"ten epochs", history(10)},
		{"diverged", diverged},
		{"step decay, log scale", decay},
		{"hundred epochs", history(100)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := out(t, "curves-"+strings.ReplaceAll(strings.ReplaceAll(tc.name, " ", "-"), ",", "")+".png")
			if err := Curves(path, tc.history, CurvesOptions{}); err != nil {
				t.Fatal(err)
			}
			img := decode(t, path)
			if b := img.Bounds(); b.Dx() != 15*dpi || b.Dy() < 4*dpi {
				t.Errorf("size %v, want 3 panels of ~5x4.6 inches at %d dpi", b, dpi)
			}
			// Both series and the learning rate are drawn in their colours.
			for name, c := range map[string]color.RGBA{"train": trainColor, "validation": valColor, "lr": lrColor} {
				if n := countColor(img, c, 8); n < 150 {
					t.Errorf("%d pixels of the %s colour, want a drawn line", n, name)
				}
			}
		})
	}
}

func TestCurvesEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.png")
	err := Curves(path, nil, CurvesOptions{})
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), path) {
		t.Errorf("Curves(nil) = %v, want ErrNoData naming the file", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a file was written for an empty history")
	}
}

func TestConfusion(t *testing.T) {
	classes := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	m := make([][]int, 10)
	for i := range m {
		m[i] = make([]int, 10)
		for j := range m[i] {
			m[i][j] = (i*7 + j*3) % 40
		}
		m[i][i] = 400 + 40*i
	}
	path := out(t, "confusion.png")
	if err := Confusion(path, classes, m); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	if b := img.Bounds(); b.Dy() < 6*dpi || b.Dx() != b.Dy()+int(barW*dpi/vg.Inch) {
		t.Errorf("size %v, want a square of at least 6 inches and the colour bar", b)
	}
	// Diagonal cells (most of their row) are strong blue, the rest light.
	if n := countBlue(img); n < 10*2000 {
		t.Errorf("%d strong-blue pixels, want ten blue diagonal cells", n)
	}

	small := out(t, "confusion-2.png")
	if err := Confusion(small, []string{"yes", "no"}, [][]int{{3, 1}, {0, 0}}); err != nil {
		t.Fatal(err)
	}
	decode(t, small)
}

func TestConfusionErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		classes []string
		m       [][]int
		want    string
	}{
		{"empty", nil, nil, "nothing to plot"},
		{"names", []string{"a"}, [][]int{{1, 0}, {0, 1}}, "1 class names for 2 rows"},
		{"ragged", []string{"a", "b"}, [][]int{{1, 0}, {0}}, "row 1 has 1 cells, want 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".png")
			err := Confusion(path, tc.classes, tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err %v, want %q naming %s", err, tc.want, path)
			}
		})
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0, 1, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{0, 1.95, "0.0 0.5 1.0 1.5"},
		{0, 0.001, "0.0000 0.0002 0.0004 0.0006 0.0008 0.0010"},
		{0.21, 0.43, "0.25 0.30 0.35 0.40"},
		{-3, 12, "0 5 10"},
		{0, 120, "0 25 50 75 100"},
		{1, 1.5, "1.0 1.1 1.2 1.3 1.4 1.5"},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("ticks(%v, %v) = %q, want %q", tc.lo, tc.hi, s, tc.want)
		}
	}
}

func TestEpochTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   string
	}{
		{0.5, 1.5, "1"},
		{1, 10, "1 2 3 4 5 6 7 8 9 10"},
		{1, 30, "5 10 15 20 25 30"},
		{1, 100, "10 20 30 40 50 60 70 80 90 100"},
		{1, 250, "50 100 150 200 250"},
		{0.2, 0.8, ""},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (epochTicks{}).Ticks(tc.lo, tc.hi) {
			got = append(got, tk.Label)
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("ticks(%v, %v) = %q, want %q", tc.lo, tc.hi, s, tc.want)
		}
	}
}
