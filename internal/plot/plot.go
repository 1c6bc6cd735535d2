// Package plot draws lepton's figures as PNG files: the training curves of
// a run (loss, accuracy and learning rate per epoch) and confusion-matrix
// heatmaps. Files are written atomically, so a reader never sees a torn
// image.
//
// The package does not import internal/train (train calls it from a
// listener); callers convert their history into []Epoch.
//
// The figures use fixed, colour-blind-safe colours; they are images, not
// terminal output, so NO_COLOR does not apply to them.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/lepton-cli/lepton/internal/atomicfile"
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

// ErrNoData is returned when there is nothing to draw.
var ErrNoData = errors.New("nothing to plot")

// dpi is the resolution of the written PNGs.
const dpi = 120

// Colours: the Okabe-Ito palette's blue and vermillion (distinguishable
// with every common colour-vision deficiency) and a neutral grey.
var (
	trainColor = color.RGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}
	valColor   = color.RGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}
	lrColor    = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xFF}
	gridColor  = color.Gray{Y: 0xDD}
)

// Curves writes a PNG to path with three side-by-side panels over the
// epochs: loss (train and validation), accuracy (train and validation, on a
// 0-1 scale, the best validation epoch marked) and learning rate (on a log
// scale when it spans more than a factor 20). A shared legend sits above
// the panels. Non-finite values (a diverged run) are left out of the
// lines. An empty history gives an error wrapping ErrNoData.
func Curves(path string, history []Epoch) error {
	if len(history) == 0 {
		return fmt.Errorf("curves %s: no epochs: %w", path, ErrNoData)
	}
	pick := func(f func(Epoch) float64) plotter.XYs {
		var xys plotter.XYs
		for _, e := range history {
			if v := f(e); !math.IsNaN(v) && !math.IsInf(v, 0) {
				xys = append(xys, plotter.XY{X: float64(e.Epoch), Y: v})
			}
		}
		return xys
	}
	dots := len(history) <= 30 // markers on every epoch while they stay apart
	trainLoss, valLoss := pick(func(e Epoch) float64 { return e.TrainLoss }), pick(func(e Epoch) float64 { return e.ValLoss })
	loss, err := panel("Loss", "cross-entropy", dots, []series{
		{trainColor, false, trainLoss},
		{valColor, true, valLoss},
	})
	if err != nil {
		return fmt.Errorf("curves %s: %w", path, err)
	}
	if minY(trainLoss, valLoss) >= 0 {
		loss.Y.Min = 0
	}
	if note := nonFinite(history); note != "" {
		if err := corner(loss, note, draw.YTop); err != nil {
			return fmt.Errorf("curves %s: %w", path, err)
		}
	}
	valAcc := pick(func(e Epoch) float64 { return e.ValAcc })
	acc, err := panel("Accuracy", "accuracy", dots, []series{
		{trainColor, false, pick(func(e Epoch) float64 { return e.TrainAcc })},
		{valColor, true, valAcc},
	})
	if err != nil {
		return fmt.Errorf("curves %s: %w", path, err)
	}
	acc.Y.Min, acc.Y.Max = 0, 1
	if err := markBest(acc, valAcc); err != nil {
		return fmt.Errorf("curves %s: %w", path, err)
	}
	lrs := pick(func(e Epoch) float64 { return e.LR })
	lr, err := panel("Learning rate", "learning rate", dots, []series{{lrColor, false, lrs}})
	if err != nil {
		return fmt.Errorf("curves %s: %w", path, err)
	}
	if logWorthy(lrs) {
		lr.Y.Scale = gplot.LogScale{}
		lr.Y.Tick.Marker = logTicks{}
		// gonum centres the axis label at the arithmetic mean, high up on a
		// log axis, which squeezes the panel: say it in the title instead.
		lr.Y.Label.Text = ""
		lr.Title.Text = "Learning rate (log scale)"
	} else if minY(lrs) >= 0 {
		lr.Y.Min = 0
	}

	w, h := 15*vg.Inch, 4.8*vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	legendH := 0.4 * vg.Inch
	legend(draw.Crop(dc, 0, 0, h-legendH, 0), []legendEntry{
		{"train", trainColor, false}, {"validation", valColor, true},
	})
	body := draw.Crop(dc, 0, 0, 0, -legendH)
	tiles := draw.Tiles{
		Rows: 1, Cols: 3,
		PadX: 0.45 * vg.Inch, PadTop: 0.05 * vg.Inch, PadBottom: 0.1 * vg.Inch,
		PadLeft: 0.1 * vg.Inch, PadRight: 0.3 * vg.Inch,
	}
	for i, p := range []*gplot.Plot{loss, acc, lr} {
		p.Draw(tiles.At(body, i, 0))
	}
	return writePNG(path, img)
}

// series is one line of a panel.
type series struct {
	color  color.Color
	dashed bool
	xys    plotter.XYs
}

func lineStyle(c color.Color, dashed bool) draw.LineStyle {
	st := draw.LineStyle{Color: c, Width: vg.Points(2)}
	if dashed {
		st.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	return st
}

// panel returns one panel of the curves figure: epochs on the x axis.
func panel(title, ylabel string, dots bool, lines []series) (*gplot.Plot, error) {
	p := gplot.New()
	style(p)
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = epochTicks{}
	p.Y.Tick.Marker = niceTicks{}
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
		l.LineStyle = lineStyle(s.color, s.dashed)
		p.Add(l)
		if dots || len(s.xys) == 1 {
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

// markBest rings the highest validation accuracy and labels it.
func markBest(p *gplot.Plot, val plotter.XYs) error {
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
func corner(p *gplot.Plot, note string, y draw.YAlignment) error {
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
			if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
				return fmt.Sprintf("%s loss is %v at epoch %d", v.name, v.v, e.Epoch)
			}
		}
	}
	return ""
}

// legendEntry is one item of the figure-wide legend.
type legendEntry struct {
	name   string
	color  color.Color
	dashed bool
}

// legend draws entries in one centred row on c.
func legend(c draw.Canvas, entries []legendEntry) {
	st := draw.TextStyle{Color: color.Black, Font: sans(13), Handler: gplot.DefaultTextHandler, YAlign: draw.YCenter}
	sample, gap := vg.Points(34), vg.Points(8)
	total := vg.Length(0)
	for i, e := range entries {
		total += sample + gap + st.Width(e.name)
		if i > 0 {
			total += 3 * gap
		}
	}
	x := c.Center().X - total/2
	y := c.Center().Y
	for _, e := range entries {
		c.StrokeLine2(lineStyle(e.color, e.dashed), x, y, x+sample, y)
		x += sample + gap
		c.FillText(st, vg.Point{X: x, Y: y}, e.name)
		x += st.Width(e.name) + 3*gap
	}
}

// sans returns the Liberation Sans font of the given size.
func sans(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// style applies lepton's fonts and sizes to p.
func style(p *gplot.Plot) {
	p.BackgroundColor = color.White
	p.Title.TextStyle.Font = sans(15)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(12)
		a.Tick.Label.Font = sans(11)
	}
}

// minY returns the smallest y of the series (+Inf when they are empty).
func minY(ss ...plotter.XYs) float64 {
	m := math.Inf(1)
	for _, s := range ss {
		for _, v := range s {
			m = math.Min(m, v.Y)
		}
	}
	return m
}

// logWorthy reports whether a positive series spans more than a factor 20
// and is better read on a log scale.
func logWorthy(xys plotter.XYs) bool {
	if len(xys) == 0 || minY(xys) <= 0 {
		return false
	}
	hi := math.Inf(-1)
	for _, v := range xys {
		hi = math.Max(hi, v.Y)
	}
	return hi/minY(xys) > 20
}

// logTicks marks the powers of ten, labelled 0.01, 0.001, 1e-04, ...
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []gplot.Tick {
	var ticks []gplot.Tick
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		v := math.Pow10(k)
		if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
		}
		for m := 2; m < 10; m++ {
			if w := float64(m) * v; w > lo && w < hi {
				ticks = append(ticks, gplot.Tick{Value: w}) // minor
			}
		}
	}
	return ticks
}

// niceTicks labels about five to ten round values (steps of 1, 2, 2.5 or
// 5 times a power of ten) with as many decimals as the step needs.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return gplot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := span / 5
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	step, mult := 10*mag, 10.0
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw*(1-1e-9) {
			step, mult = m*mag, m
			break
		}
	}
	decimals := max(0, int(math.Ceil(-math.Log10(step)-1e-9)))
	if mult == 2.5 && step < 10 {
		decimals++
	}
	var ticks []gplot.Tick
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v == 0 {
			v = 0 // not -0
		}
		ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		if h := v + step/2; h < hi {
			ticks = append(ticks, gplot.Tick{Value: h}) // minor
		}
	}
	return ticks
}

// epochTicks marks whole epochs only, at most about ten of them.
type epochTicks struct{}

// Ticks implements plot.Ticker.
func (epochTicks) Ticks(lo, hi float64) []gplot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	if last < first {
		return nil
	}
	step := 1
	for i := 0; (last-first)/step > 10; i++ {
		step = []int{2, 5, 10}[i%3] * int(math.Pow10(i/3)) // 2, 5, 10, 20, 50, ...
	}
	var ticks []gplot.Tick
	for v := first; v <= last; v++ {
		if v%step == 0 {
			ticks = append(ticks, gplot.Tick{Value: float64(v), Label: strconv.Itoa(v)})
		}
	}
	return ticks
}

// Confusion writes a PNG heatmap of a confusion matrix to path: rows are
// the true classes, columns the predicted ones, both labelled with the
// class names. Each cell shows its count; its colour is the count's share
// of its row (the recall on the diagonal), so classes of different sizes
// read alike.
func Confusion(path string, classes []string, matrix [][]int) error {
	n := len(matrix)
	if n == 0 {
		return fmt.Errorf("confusion matrix %s: %w", path, ErrNoData)
	}
	if len(classes) != n {
		return fmt.Errorf("confusion matrix %s: %d class names for %d rows", path, len(classes), n)
	}
	for i, row := range matrix {
		if len(row) != n {
			return fmt.Errorf("confusion matrix %s: row %d has %d cells, want %d", path, i, len(row), n)
		}
	}
	share := make([][]float64, n)
	total := 0
	for i, row := range matrix {
		share[i] = make([]float64, n)
		sum := 0
		for _, c := range row {
			sum += c
		}
		total += sum
		for j, c := range row {
			if sum > 0 {
				share[i][j] = float64(c) / float64(sum)
			}
		}
	}

	pal, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return fmt.Errorf("confusion matrix %s: %w", path, err)
	}
	// ColorBrewer's Blues, from near-white (0) to dark blue (the whole row).
	p := gplot.New()
	style(p)
	p.Title.Text = fmt.Sprintf("Confusion matrix, %d images\n(shade: share of the true class's images)", total)
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	cells := cells{share: share, palette: smooth(pal, 64).Colors()}
	p.Add(cells)

	fontSize := vg.Points(12)
	if n > 12 {
		fontSize = vg.Points(max(6, 12-0.25*float64(n-12)))
	}
	labels := &plotter.Labels{}
	for i := range n {
		for j := range n {
			st := text.Style{
				Font:    font.Font{Typeface: "Liberation", Variant: "Sans", Size: fontSize},
				Handler: gplot.DefaultTextHandler,
				XAlign:  draw.XCenter,
				YAlign:  draw.YCenter,
				Color:   color.Black,
			}
			if dark(cells.at(share[i][j])) {
				st.Color = color.White
			}
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: float64(n - 1 - i)})
			labels.Labels = append(labels.Labels, strconv.Itoa(matrix[i][j]))
			labels.TextStyle = append(labels.TextStyle, st)
		}
	}
	p.Add(labels)

	xticks, yticks := make([]gplot.Tick, n), make([]gplot.Tick, n)
	for i, c := range classes {
		xticks[i] = gplot.Tick{Value: float64(i), Label: c}
		yticks[i] = gplot.Tick{Value: float64(n - 1 - i), Label: c} // row 0 on top
	}
	p.X.Tick.Marker = gplot.ConstantTicks(xticks)
	p.Y.Tick.Marker = gplot.ConstantTicks(yticks)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	p.X.Padding, p.Y.Padding = 0, 0

	side := vg.Length(max(6.5, 2.2+0.6*float64(n))) * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(side, side), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p.Draw(draw.Crop(dc, 0.1*vg.Inch, -0.3*vg.Inch, 0.1*vg.Inch, -0.1*vg.Inch))
	return writePNG(path, img)
}

// cells draws a square matrix of values in [0,1] as filled unit squares,
// matrix row 0 on top (at y = n-1) and column j at x = j.
type cells struct {
	share   [][]float64
	palette []color.Color
}

// Plot implements plot.Plotter.
func (c cells) Plot(dc draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&dc)
	n := len(c.share)
	bleed := vg.Points(0.4) // overlap neighbours: no hairline seams
	for i, row := range c.share {
		y := float64(n - 1 - i)
		for j, v := range row {
			x := float64(j)
			x0, x1 := trX(x-0.5)-bleed, trX(x+0.5)+bleed
			y0, y1 := trY(y-0.5)-bleed, trY(y+0.5)+bleed
			dc.FillPolygon(c.at(v), []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
		}
	}
}

// at returns the colour of a value in [0,1].
func (c cells) at(v float64) color.Color {
	return c.palette[int(math.Round(min(max(v, 0), 1)*float64(len(c.palette)-1)))]
}

// dark reports whether white text reads better than black on c (relative
// luminance of the sRGB values below 0.5).
func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	lum := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xFFFF
	return lum < 0.5
}

// smooth interpolates a palette to n colours.
func smooth(p palette.Palette, n int) palette.Palette {
	src := p.Colors()
	out := make([]color.Color, n)
	for i := range out {
		t := float64(i) / float64(n-1) * float64(len(src)-1)
		k := min(int(t), len(src)-2)
		f := t - float64(k)
		a, b := color.RGBAModel.Convert(src[k]).(color.RGBA), color.RGBAModel.Convert(src[k+1]).(color.RGBA)
		mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-f) + float64(y)*f)) }
		out[i] = color.RGBA{R: mix(a.R, b.R), G: mix(a.G, b.G), B: mix(a.B, b.B), A: 0xFF}
	}
	return colors(out)
}

// colors is a palette.Palette of fixed colours.
type colors []color.Color

func (c colors) Colors() []color.Color { return c }

// writePNG encodes the canvas and replaces path with it atomically.
func writePNG(path string, img *vgimg.Canvas) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
			return fmt.Errorf("encode PNG: %w", err)
		}
		return nil
	})
}
