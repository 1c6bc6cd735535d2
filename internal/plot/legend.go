package plot

import (
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legendEntry is one item of the figure-wide legend.
type legendEntry struct {
	name   string
	color  color.Color
	dashed bool
	width  float64
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
		c.StrokeLine2(lineStyle(e.color, e.dashed, e.width), x, y, x+sample, y)
		x += sample + gap
		c.FillText(st, vg.Point{X: x, Y: y}, e.name)
		x += st.Width(e.name) + 3*gap
	}
}
