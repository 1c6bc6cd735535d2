package plot

import (
	"fmt"
	"image/color"
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
)

// Confusion writes a PNG heatmap of a confusion matrix to path: rows are
// the true classes, columns the predicted ones, both labelled with the
// class names. Each cell shows its count; its colour is the count's share
// of its row (the recall on the diagonal), so classes of different sizes
// read alike, and a colour bar beside the matrix gives the scale. The
// title gives the number of images and the accuracy (the diagonal's share
// of all images).
func Confusion(path string, classes []string, matrix [][]int) error {
	f, err := buildConfusion(classes, matrix)
	if err != nil {
		return fmt.Errorf("confusion matrix %s: %w", path, err)
	}
	return writePNG(path, f.draw())
}

// confusionFigure is the heatmap and its colour bar before they are drawn.
type confusionFigure struct {
	n         int
	heat, bar *gplot.Plot
	colorBar  *plotter.ColorBar
}

func buildConfusion(classes []string, matrix [][]int) (*confusionFigure, error) {
	n := len(matrix)
	if n == 0 {
		return nil, ErrNoData
	}
	if len(classes) != n {
		return nil, fmt.Errorf("%d class names for %d rows", len(classes), n)
	}
	for i, row := range matrix {
		if len(row) != n {
			return nil, fmt.Errorf("row %d has %d cells, want %d", i, len(row), n)
		}
	}
	share := make([][]float64, n)
	total, correct := 0, 0
	for i, row := range matrix {
		correct += row[i]
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
		return nil, err
	}
	// ColorBrewer's Blues, from near-white (0) to dark blue (the whole row).
	p := gplot.New()
	style(p)
	acc := 0.0
	if total > 0 {
		acc = float64(correct) / float64(total)
	}
	p.Title.Text = fmt.Sprintf("Confusion matrix: accuracy %.4f (%d of %d images)", acc, correct, total)
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

	bar := gplot.New()
	style(bar)
	bar.HideX()
	bar.Y.Label.Text = "share of the true class's images"
	bar.Y.Tick.Marker = niceTicks{}
	cb := &plotter.ColorBar{ColorMap: shareMap{cells}, Vertical: true, Colors: len(cells.palette)}
	bar.Add(cb)
	bar.Y.Min, bar.Y.Max = 0, 1
	bar.Y.Padding = 0
	return &confusionFigure{n: n, heat: p, bar: bar, colorBar: cb}, nil
}

// barW is the width of the colour bar's column, its labels included.
const barW = 1.1 * vg.Inch

// draw renders the heatmap with the colour bar at its right.
func (f *confusionFigure) draw() *vgimg.Canvas {
	side := vg.Length(max(6.5, 2.2+0.6*float64(f.n))) * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(side+barW, side), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.heat.Draw(draw.Crop(dc, 0.1*vg.Inch, -barW-0.3*vg.Inch, 0.1*vg.Inch, -0.1*vg.Inch))
	// The bar spans the matrix's height: below the rotated class names,
	// under the title.
	f.bar.Draw(draw.Crop(dc, side-0.1*vg.Inch, -0.35*vg.Inch, 1.12*vg.Inch, -0.4*vg.Inch))
	return img
}

// shareMap is the heatmap's colours as a palette.ColorMap over [0, 1], for
// the colour bar.
type shareMap struct{ c cells }

// At, Max, Min, Alpha, Palette and their setters implement
// palette.ColorMap (the range is fixed).
func (m shareMap) At(v float64) (color.Color, error) {
	if v < 0 || v > 1 {
		return nil, fmt.Errorf("share %v outside [0, 1]", v)
	}
	return m.c.at(v), nil
}
func (shareMap) Max() float64                    { return 1 }
func (shareMap) SetMax(float64)                  {}
func (shareMap) Min() float64                    { return 0 }
func (shareMap) SetMin(float64)                  {}
func (shareMap) Alpha() float64                  { return 1 }
func (shareMap) SetAlpha(float64)                {}
func (m shareMap) Palette(n int) palette.Palette { return smooth(colors(m.c.palette), n) }

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
