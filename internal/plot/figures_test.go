package plot

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// steps returns per-step records for the epochs of h, n steps each: a
// noisy loss around the epoch's training loss and a warm-up then cosine
// learning rate.
func steps(h []Epoch, n int) []Step {
	var out []Step
	total := len(h) * n
	for i, e := range h {
		for s := 1; s <= n; s++ {
			g := i*n + s
			lr := 1e-3 * 0.5 * (1 + math.Cos(math.Pi*float64(g)/float64(total)))
			if g < n/2 {
				lr = 1e-3 * float64(g) / float64(n/2)
			}
			out = append(out, Step{X: float64(i) + float64(s)/float64(n), Loss: e.TrainLoss * (1 + 0.2*math.Sin(float64(g))), LR: lr})
		}
	}
	return out
}

// lineLens returns the number of points of each line a panel draws.
func lineLens(p *panelPlot) []int {
	var n []int
	for _, l := range p.lines {
		n = append(n, len(l))
	}
	return n
}

// TestCurvesFitAxesTitleAndSteps checks what the figure shows: its title,
// loss and accuracy axes fitted to the data (not from 0, not 0 to 1) so
// the train/validation gap is visible, and with steps the per-step loss
// and learning rate.
func TestCurvesFitAxesTitleAndSteps(t *testing.T) {
	h := history(4)
	for i := range h { // a narrow band: accuracies 0.40-0.55, losses 1.2-1.6
		h[i].TrainAcc, h[i].ValAcc = 0.45+0.03*float64(i), 0.40+0.02*float64(i)
		h[i].TrainLoss, h[i].ValLoss = 1.6-0.1*float64(i), 1.55-0.05*float64(i)
	}
	title := "run mlp-20261126-120000 · config mlp · best epoch 4 (val_acc 0.4600)"
	st := steps(h, 50)
	f, err := buildCurves(h, CurvesOptions{Title: title, Steps: st})
	if err != nil {
		t.Fatal(err)
	}
	if f.title != title {
		t.Errorf("title %q", f.title)
	}
	if f.acc.Y.Min < 0.3 || f.acc.Y.Max > 0.65 || f.acc.Y.Min >= 0.40 || f.acc.Y.Max <= 0.54 {
		t.Errorf("accuracy axis [%v, %v], want fitted around [0.40, 0.54]", f.acc.Y.Min, f.acc.Y.Max)
	}
	if f.loss.Y.Min < 0.8 || f.loss.Y.Max > 2.2 {
		t.Errorf("loss axis [%v, %v], want fitted to the losses (1.2-1.6 and steps ±20%%)", f.loss.Y.Min, f.loss.Y.Max)
	}
	if got := fmt.Sprint(lineLens(f.loss)); got != fmt.Sprint([]int{len(st), 4, 4}) {
		t.Errorf("loss panel lines have %s points, want per step, train, validation", got)
	}
	if got := fmt.Sprint(lineLens(f.lr)); got != fmt.Sprint([]int{len(st)}) || !strings.Contains(f.lr.Title.Text, "per step") {
		t.Errorf("learning-rate panel %q lines %s, want one per-step line", f.lr.Title.Text, got)
	}
	if f.loss.X.Min != 0 {
		t.Errorf("with steps the epoch axis starts at %v, want 0", f.loss.X.Min)
	}
	names := ""
	for _, e := range f.legend {
		names += e.name + ";"
	}
	if names != "train;validation;train, per step;" {
		t.Errorf("legend %q", names)
	}

	path := out(t, "curves-steps.png")
	if err := Curves(path, h, CurvesOptions{Title: title, Steps: st}); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	if b := img.Bounds(); b.Dy() != int(5.25*dpi) {
		t.Errorf("height %d, want 5.25 inches with the title", b.Dy())
	}
	if n := countColor(img, stepColor, 6); n < 300 {
		t.Errorf("%d pixels of the per-step colour, want a drawn line", n)
	}
}

// TestConfusionTitleAndColourBar checks the heatmap's title gives the
// accuracy and a colour bar from 0 to 1 is drawn beside it.
func TestConfusionTitleAndColourBar(t *testing.T) {
	f, err := buildConfusion([]string{"a", "b", "c"}, [][]int{{8, 1, 1}, {0, 9, 1}, {2, 2, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "accuracy 0.7667 (23 of 30 images)"; !strings.Contains(f.heat.Title.Text, want) {
		t.Errorf("title %q lacks %q", f.heat.Title.Text, want)
	}
	bar := f.colorBar
	if bar == nil || !bar.Vertical || bar.ColorMap.Min() != 0 || bar.ColorMap.Max() != 1 {
		t.Fatalf("no vertical 0-1 colour bar: %+v", bar)
	}
	path := out(t, "confusion-3.png")
	if err := Confusion(path, []string{"a", "b", "c"}, [][]int{{8, 1, 1}, {0, 9, 1}, {2, 2, 6}}); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	// The bar's column (right of the matrix) holds the palette's dark end.
	b := img.Bounds()
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Max.X - int(barW*dpi/72); x < b.Max.X; x++ {
			if r, _, bl, _ := img.At(x, y).RGBA(); r>>8 < 40 && bl>>8 > 90 {
				dark++
			}
		}
	}
	if dark < 50 {
		t.Errorf("%d dark-blue pixels in the colour bar's column, want its top", dark)
	}
}
