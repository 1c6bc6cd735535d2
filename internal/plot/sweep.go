package plot

import (
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// SweepParam is one swept parameter of a sweep figure: each trial's value
// as text, and as a number when the parameter is numeric.
type SweepParam struct {
	// Key is the config key, the panel's title.
	Key string
	// Labels are the trials' values as text, in trial order.
	Labels []string
	// Numbers are the same values as numbers; nil for a categorical
	// parameter (lists, strings, booleans), drawn one column per value.
	Numbers []float64
	// Log draws a numeric parameter on a log axis (a log-uniform range);
	// without it one spanning more than a factor 20 gets one too.
	Log bool
}

// SweepFigure is what Sweep draws.
type SweepFigure struct {
	// Metric names the metric ("val_acc").
	Metric string
	// Metrics are the trials' values of it; NaN when unknown (left out).
	Metrics []float64
	// Best indexes the best trial in Metrics, -1 for none; BestName names
	// it in the heading ("trial 003").
	Best     int
	BestName string
	// Params are the swept parameters, one panel each.
	Params []SweepParam
}

// Sweep writes a PNG to path with one panel per swept parameter: each
// trial's metric against its value of the parameter, the best trial
// ringed. Numeric parameters marked Log or spanning more than a factor 20
// get a log axis.
// Panels are laid out three to a row. With no known metric the error wraps
// ErrNoData.
func Sweep(path string, fig SweepFigure) error {
	metric, metrics, best, params := fig.Metric, fig.Metrics, fig.Best, fig.Params
	known := 0
	for _, m := range metrics {
		if !math.IsNaN(m) && !math.IsInf(m, 0) {
			known++
		}
	}
	if known == 0 || len(params) == 0 {
		return fmt.Errorf("sweep figure %s: no trial has a %s yet: %w", path, metric, ErrNoData)
	}
	plots := make([]*gplot.Plot, len(params))
	for i, p := range params {
		pl, err := sweepPanel(p, metric, metrics, best)
		if err != nil {
			return fmt.Errorf("sweep figure %s: %s: %w", path, p.Key, err)
		}
		plots[i] = pl
	}
	cols := min(len(params), 3)
	rows := (len(params) + cols - 1) / cols
	headH := 0.45 * vg.Inch
	w, h := vg.Length(cols)*5*vg.Inch, vg.Length(rows)*4*vg.Inch+headH
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	head := fmt.Sprintf("%s of %d trials against each swept parameter", metric, known)
	if best >= 0 && best < len(metrics) {
		head += fmt.Sprintf(" (ringed: the best, %s, %.4f)", fig.BestName, metrics[best])
	}
	st := draw.TextStyle{Color: color.Black, Font: sans(13), Handler: gplot.DefaultTextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
	dc.FillText(st, vg.Point{X: w / 2, Y: h - headH/2}, head)
	body := draw.Crop(dc, 0, 0, 0, -headH)
	tiles := draw.Tiles{
		Rows: rows, Cols: cols,
		PadX: 0.45 * vg.Inch, PadY: 0.3 * vg.Inch, PadTop: 0.05 * vg.Inch, PadBottom: 0.1 * vg.Inch,
		PadLeft: 0.1 * vg.Inch, PadRight: 0.3 * vg.Inch,
	}
	for i, pl := range plots {
		pl.Draw(tiles.At(body, i%cols, i/cols))
	}
	return writePNG(path, img)
}

// sweepPanel draws one parameter's panel.
func sweepPanel(p SweepParam, metric string, metrics []float64, best int) (*gplot.Plot, error) {
	pl := gplot.New()
	style(pl)
	pl.Title.Text = p.Key
	pl.X.Label.Text = p.Key
	pl.Y.Label.Text = metric
	pl.Y.Tick.Marker = niceTicks{}
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor, gridColor
	pl.Add(g)

	var xs []float64
	if p.Numbers != nil {
		xs = p.Numbers
		pl.X.Tick.Marker = niceTicks{}
		var pos plotter.XYs
		for _, x := range xs {
			pos = append(pos, plotter.XY{Y: x})
		}
		if (p.Log && minY(pos) > 0) || logWorthy(pos) {
			pl.X.Scale = gplot.LogScale{}
			pl.X.Tick.Marker = logTicks{}
			pl.X.Label.Text = p.Key + " (log scale)"
		}
	} else {
		// One column per distinct value, in order of first appearance.
		col := map[string]int{}
		var ticks []gplot.Tick
		for _, l := range p.Labels {
			if _, ok := col[l]; !ok {
				col[l] = len(col)
				ticks = append(ticks, gplot.Tick{Value: float64(col[l]), Label: l})
			}
			xs = append(xs, float64(col[l]))
		}
		pl.X.Tick.Marker = gplot.ConstantTicks(ticks)
		pl.X.Min, pl.X.Max = -0.5, float64(len(col))-0.5
	}
	var pts, ring plotter.XYs
	for i, m := range metrics {
		if i >= len(xs) || math.IsNaN(m) || math.IsInf(m, 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: xs[i], Y: m})
		if i == best {
			ring = append(ring, plotter.XY{X: xs[i], Y: m})
		}
	}
	if len(pts) > 0 {
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.Color, sc.Radius, sc.Shape = trainColor, vg.Points(3.5), draw.CircleGlyph{}
		pl.Add(sc)
	}
	if len(ring) > 0 {
		r, err := plotter.NewScatter(ring)
		if err != nil {
			return nil, err
		}
		r.Color, r.Radius, r.Shape = valColor, vg.Points(7), draw.RingGlyph{}
		pl.Add(r)
	}
	if p.Numbers != nil && pl.X.Min < pl.X.Max {
		if _, isLog := pl.X.Scale.(gplot.LogScale); isLog {
			pl.X.Min, pl.X.Max = pl.X.Min/1.25, pl.X.Max*1.25
		} else {
			d := (pl.X.Max - pl.X.Min) * 0.06
			pl.X.Min, pl.X.Max = pl.X.Min-d, pl.X.Max+d
		}
	}
	if pl.X.Min == pl.X.Max {
		d := math.Max(math.Abs(pl.X.Min)*0.1, 1e-3)
		pl.X.Min, pl.X.Max = pl.X.Min-d, pl.X.Max+d
	}
	if pl.Y.Min == pl.Y.Max {
		d := math.Max(math.Abs(pl.Y.Min)*0.1, 1e-3)
		pl.Y.Min, pl.Y.Max = pl.Y.Min-d, pl.Y.Max+d
	} else {
		d := (pl.Y.Max - pl.Y.Min) * 0.08
		pl.Y.Min, pl.Y.Max = pl.Y.Min-d, pl.Y.Max+d
	}
	return pl, nil
}
