// Package plot draws lepton's figures as PNG files: the training curves of
// a run (loss, accuracy and learning rate per epoch, and per step for
// short runs) and confusion-matrix heatmaps. Files are written atomically,
// so a reader never sees a torn image.
//
// The package does not import internal/train (train calls it from a
// listener); callers convert their history into []Epoch and []Step.
//
// The figures use fixed, colour-blind-safe colours; they are images, not
// terminal output, so NO_COLOR does not apply to them.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/lepton-cli/lepton/internal/atomicfile"
)

// ErrNoData is returned when there is nothing to draw.
var ErrNoData = errors.New("nothing to plot")

// dpi is the resolution of the written PNGs.
const dpi = 120

// Colours: the Okabe-Ito palette's blue and vermillion (distinguishable
// with every common colour-vision deficiency) and a neutral grey; the
// per-step training loss is a light blue under the epoch lines.
var (
	trainColor = color.RGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}
	stepColor  = color.RGBA{R: 0x9D, G: 0xC6, B: 0xE0, A: 0xFF}
	valColor   = color.RGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}
	lrColor    = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xFF}
	gridColor  = color.Gray{Y: 0xDD}
)

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

// heading writes text centred on one line of c, in a larger font.
func heading(c draw.Canvas, text string, size float64) {
	st := draw.TextStyle{Color: color.Black, Font: sans(size), Handler: gplot.DefaultTextHandler,
		XAlign: draw.XCenter, YAlign: draw.YCenter}
	c.FillText(st, c.Center(), text)
}

// writePNG encodes the canvas and replaces path with it atomically.
func writePNG(path string, img *vgimg.Canvas) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
			return fmt.Errorf("encode PNG: %w", err)
		}
		return nil
	})
}
