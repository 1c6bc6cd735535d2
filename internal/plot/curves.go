package plot

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Epoch is one epoch's metrics, the points of the training curves.
type Epoch struct {
	Epoch     int
	TrainLoss float64
	TrainAcc  float64
	ValLoss   float64
	ValAcc    float64
	LR        float64
}

// Step is one optimizer step: where it is in epochs (X: 2.5 is halfway
// through the third epoch, whose metrics are drawn at 3), the training
// loss of its batch and its learning rate.
type Step struct {
	X, Loss, LR float64
}

// CurvesOptions add to the curves figure.
type CurvesOptions struct {
	// Title heads the figure, e.g. "run mlp-20261126-120000 · config mlp ·
	// best epoch 7 (val_acc 0.5312)"; empty for none.
	Title string
	// Steps, when given (short runs), add the per-step training loss under
	// the loss panel's epoch lines and draw the learning rate per step.
	Steps []Step
}

// curvesFigure is the curves figure before it is drawn.
type curvesFigure struct {
	title         string
	loss, acc, lr *panelPlot
	legend        []legendEntry
}

// panelPlot is one panel and the lines drawn in it.
type panelPlot struct {
	*gplot.Plot
	lines []plotter.XYs
}

// Curves writes a PNG to path with a title and three side-by-side panels
// over the epochs: loss (train and validation, and the training loss of
// every step when opts.Steps are given), accuracy (train and validation,
// the best validation epoch marked) and learning rate (per step when
// given, on a log scale when it spans more than a factor 20). The loss and
// accuracy axes are fitted to the data, so the gap between training and
// validation shows. A shared legend sits above the panels. Non-finite
// values (a diverged run) are left out of the lines. An empty history
// gives an error wrapping ErrNoData.
func Curves(path string, history []Epoch, opts CurvesOptions) error {
	f, err := buildCurves(history, opts)
	if err != nil {
		return fmt.Errorf("curves %s: %w", path, err)
	}
	return writePNG(path, f.draw())
}

func buildCurves(history []Epoch, opts CurvesOptions) (*curvesFigure, error) {
	if len(history) == 0 {
		return nil, fmt.Errorf("no epochs: %w", ErrNoData)
	}
	pick := func(f func(Epoch) float64) plotter.XYs {
		var xys plotter.XYs
		for _, e := range history {
			if v := f(e); finite(v) {
				xys = append(xys, plotter.XY{X: float64(e.Epoch), Y: v})
			}
		}
		return xys
	}
	var stepLoss, stepLR plotter.XYs
	for _, s := range opts.Steps {
		if finite(s.X) && finite(s.Loss) {
			stepLoss = append(stepLoss, plotter.XY{X: s.X, Y: s.Loss})
		}
		if finite(s.X) && finite(s.LR) {
			stepLR = append(stepLR, plotter.XY{X: s.X, Y: s.LR})
		}
	}
	dots := len(history) <= 30 // markers on every epoch while they stay apart
	f := &curvesFigure{title: opts.Title, legend: []legendEntry{
		{"train", trainColor, false, 2}, {"validation", valColor, true, 2},
	}}
	if len(stepLoss) > 0 {
		f.legend = append(f.legend, legendEntry{"train, per step", stepColor, false, 1})
	}

	trainLoss, valLoss := pick(func(e Epoch) float64 { return e.TrainLoss }), pick(func(e Epoch) float64 { return e.ValLoss })
	loss, err := panel("Loss", "cross-entropy", []series{
		{color: stepColor, width: 1, xys: stepLoss},
		{color: trainColor, width: 2, dots: dots, xys: trainLoss},
		{color: valColor, width: 2, dashed: true, dots: dots, xys: valLoss},
	})
	if err != nil {
		return nil, err
	}
	lo, hi := span(trainLoss, valLoss)
	if slo, shi, ok := quantiles(stepLoss, 0.01, 0.99); ok {
		lo, hi = math.Min(lo, slo), math.Max(hi, shi)
	}
	fitY(loss, lo, hi, 0, math.Inf(1))
	if note := nonFinite(history); note != "" {
		if err := corner(loss, note, draw.YTop); err != nil {
			return nil, err
		}
	}

	trainAcc, valAcc := pick(func(e Epoch) float64 { return e.TrainAcc }), pick(func(e Epoch) float64 { return e.ValAcc })
	acc, err := panel("Accuracy", "accuracy", []series{
		{color: trainColor, width: 2, dots: dots, xys: trainAcc},
		{color: valColor, width: 2, dashed: true, dots: dots, xys: valAcc},
	})
	if err != nil {
		return nil, err
	}
	lo, hi = span(trainAcc, valAcc)
	fitY(acc, lo, hi, 0, 1)
	if err := markBest(acc, valAcc); err != nil {
		return nil, err
	}

	lrs := pick(func(e Epoch) float64 { return e.LR })
	lrLine := series{color: lrColor, width: 2, dots: dots, xys: lrs}
	if len(stepLR) > 0 {
		lrLine = series{color: lrColor, width: 1.5, xys: stepLR}
	}
	lr, err := panel("Learning rate", "learning rate", []series{lrLine})
	if err != nil {
		return nil, err
	}
	if logWorthy(lrLine.xys) {
		lr.Y.Scale = gplot.LogScale{}
		lr.Y.Tick.Marker = logTicks{}
		// gonum centres the axis label at the arithmetic mean, high up on a
		// log axis, which squeezes the panel: say it in the title instead.
		lr.Y.Label.Text = ""
		lr.Title.Text = "Learning rate (log scale)"
	} else if minY(lrLine.xys) >= 0 {
		lr.Y.Min = 0
	}
	if len(opts.Steps) > 0 {
		for _, p := range []*panelPlot{loss, acc, lr} {
			p.X.Min = math.Min(p.X.Min, 0) // steps start at epoch 0
		}
		if len(stepLR) > 0 {
			lr.Title.Text += ", per step"
		}
	}
	f.loss, f.acc, f.lr = loss, acc, lr
	return f, nil
}

// draw renders the figure: the title, the legend, then the three panels.
func (f *curvesFigure) draw() *vgimg.Canvas {
	titleH := vg.Length(0)
	if f.title != "" {
		titleH = 0.45 * vg.Inch
	}
	w, h := 15*vg.Inch, 4.8*vg.Inch+titleH
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	if f.title != "" {
		heading(draw.Crop(dc, 0, 0, h-titleH, 0), f.title, 16)
	}
	legendH := 0.4 * vg.Inch
	legend(draw.Crop(dc, 0, 0, h-titleH-legendH, -titleH), f.legend)
	body := draw.Crop(dc, 0, 0, 0, -legendH-titleH)
	tiles := draw.Tiles{
		Rows: 1, Cols: 3,
		PadX: 0.45 * vg.Inch, PadTop: 0.05 * vg.Inch, PadBottom: 0.1 * vg.Inch,
		PadLeft: 0.1 * vg.Inch, PadRight: 0.3 * vg.Inch,
	}
	for i, p := range []*panelPlot{f.loss, f.acc, f.lr} {
		p.Draw(tiles.At(body, i, 0))
	}
	return img
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// series is one line of a panel.
type series struct {
	color  color.Color
	dashed bool
	width  float64 // points
	dots   bool    // a marker on every point
	xys    plotter.XYs
}

func lineStyle(c color.Color, dashed bool, width float64) draw.LineStyle {
	st := draw.LineStyle{Color: c, Width: vg.Points(width)}
	if dashed {
		st.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	return st
}

// panel returns one panel of the curves figure: epochs on the x axis.
func panel(title, ylabel string, lines []series) (*panelPlot, error) {
	p := &panelPlot{Plot: gplot.New()}
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = epochTicks{}
	p.Y.Tick.Marker = niceTicks{}
	style(p.Plot)
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor, gridColor
	p.Add(g)
	for _, s := range lines {
		if len(s.xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.xys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", title, err)
		}
		l.LineStyle = lineStyle(s.color, s.dashed, s.width)
		p.Add(l)
		p.lines = append(p.lines, s.xys)
		if s.dots || len(s.xys) == 1 {
			pts, err := plotter.NewScatter(s.xys)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", title, err)
			}
			pts.Color, pts.Radius, pts.Shape = s.color, vg.Points(2.5), draw.CircleGlyph{}
			p.Add(pts)
		}
	}
	// Some room around a single epoch.
	if p.X.Min == p.X.Max {
		p.X.Min, p.X.Max = p.X.Min-1, p.X.Max+1
	}
	if p.Y.Min == p.Y.Max {
		d := math.Max(math.Abs(p.Y.Min)*0.1, 1e-3)
		p.Y.Min, p.Y.Max = p.Y.Min-d, p.Y.Max+d
	}
	return p, nil
}

// span returns the smallest and largest y of the series (+Inf, -Inf when
// they are empty).
func span(ss ...plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, v := range s {
			lo, hi = math.Min(lo, v.Y), math.Max(hi, v.Y)
		}
	}
	return lo, hi
}

// quantiles returns the q-th and r-th quantiles of the series' y values:
// the range of noisy per-step values without their few extremes.
func quantiles(xys plotter.XYs, q, r float64) (lo, hi float64, ok bool) {
	if len(xys) == 0 {
		return 0, 0, false
	}
	ys := make([]float64, len(xys))
	for i, v := range xys {
		ys[i] = v.Y
	}
	slices.Sort(ys)
	at := func(f float64) float64 { return ys[int(math.Round(f*float64(len(ys)-1)))] }
	return at(q), at(r), true
}

// fitY fits p's y axis to [lo, hi] with a margin of 8% of the range on
// each side, within [floor, ceil], so that small differences (the gap
// between training and validation) show. Nothing changes for an empty
// range (no finite data).
func fitY(p *panelPlot, lo, hi, floor, ceil float64) {
	if !(lo <= hi) || !finite(lo) || !finite(hi) {
		return
	}
	d := hi - lo
	if d == 0 {
		d = math.Max(math.Abs(hi)*0.1, 1e-3)
		lo, hi = lo-d/2, hi+d/2
	}
	p.Y.Min = math.Max(floor, lo-0.08*d)
	p.Y.Max = math.Min(ceil, hi+0.08*d)
}

// markBest rings the highest validation accuracy and labels it.
func markBest(p *panelPlot, val plotter.XYs) error {
	if len(val) == 0 {
		return nil
	}
	best := val[0]
	for _, v := range val[1:] {
		if v.Y > best.Y {
			best = v
		}
	}
	ring, err := plotter.NewScatter(plotter.XYs{best})
	if err != nil {
		return err
	}
	ring.Shape, ring.Radius = draw.RingGlyph{}, vg.Points(6)
	ring.Color = valColor
	p.Add(ring)
	return corner(p, fmt.Sprintf("best validation %.4f (epoch %d)", best.Y, int(best.X)), draw.YBottom)
}

// corner writes a note in the panel's bottom-right (y = YBottom) or
// top-right (YTop) corner, in the validation colour.
func corner(p *panelPlot, note string, y draw.YAlignment) error {
	at := plotter.XY{X: p.X.Max, Y: p.Y.Min}
	off := vg.Point{X: -vg.Points(4), Y: vg.Points(6)}
	if y == draw.YTop {
		at.Y, off.Y = p.Y.Max, -vg.Points(4)
	}
	lbl, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{at}, Labels: []string{note}})
	if err != nil {
		return err
	}
	lbl.TextStyle[0].Font = sans(11)
	lbl.TextStyle[0].Color = valColor
	lbl.TextStyle[0].XAlign = draw.XRight
	lbl.TextStyle[0].YAlign = y
	lbl.Offset = off
	p.Add(lbl)
	return nil
}

// nonFinite describes the first epoch whose loss is NaN or infinite, or
// returns "".
func nonFinite(history []Epoch) string {
	for _, e := range history {
		for _, v := range []struct {
			name string
			v    float64
		}{{"train", e.TrainLoss}, {"validation", e.ValLoss}} {
			if !finite(v.v) {
				return fmt.Sprintf("%s loss is %v at epoch %d", v.name, v.v, e.Epoch)
			}
		}
	}
	return ""
}

// minY returns the smallest y of the series (+Inf when they are empty).
func minY(ss ...plotter.XYs) float64 {
	lo, _ := span(ss...)
	return lo
}

// logWorthy reports whether a positive series spans more than a factor 20
// and is better read on a log scale.
func logWorthy(xys plotter.XYs) bool {
	if len(xys) == 0 || minY(xys) <= 0 {
		return false
	}
	lo, hi := span(xys)
	return hi/lo > 20
}
