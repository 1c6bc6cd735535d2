package imaging

import (
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// directSide is the longest side that resample hands to the Catmull-Rom
// kernel directly (when the output side is small). x/image/draw's kernel
// scaler keeps a float64 RGBA buffer of output width x input height and
// weight tables proportional to the input sides, which for a 1 x 40,000,000
// image means some 41 GB; longer sides are first averaged down.
const directSide = 1024

// resample scales src into all of dst with the Catmull-Rom kernel, whose
// support widens when shrinking so that downscaling is low-pass filtered.
// Along a side more than max(directSide, 4x the output) long, src is first
// box-averaged to half that many pixels, so memory and work stay bounded by
// the output size and one pass over the source pixels.
func resample(dst *image.RGBA, src image.Image) {
	sb, db := src.Bounds(), dst.Bounds()
	if sb.Empty() || db.Empty() {
		return
	}
	nx, ny := boxSide(sb.Dx(), db.Dx()), boxSide(sb.Dy(), db.Dy())
	if nx != sb.Dx() || ny != sb.Dy() {
		src = boxShrink(src, nx, ny)
		sb = src.Bounds()
	}
	draw.CatmullRom.Scale(dst, db, src, sb, draw.Src, nil)
}

// boxSide is the side that a source side of n pixels is averaged down to
// before resampling it to out pixels: n itself up to the direct limit,
// else half the limit.
func boxSide(n, out int) int {
	limit := max(directSide, 4*out)
	if n <= limit {
		return n
	}
	return limit / 2
}

// boxShrink returns src averaged down to nx x ny pixels: output pixel (i, j)
// is the mean of the source pixels in columns [i*W/nx, (i+1)*W/nx) and rows
// [j*H/ny, (j+1)*H/ny), with 16-bit alpha-premultiplied precision. It reads
// each source pixel once and keeps one row of sums, so memory is
// proportional to the output whatever the source's shape.
func boxShrink(src image.Image, nx, ny int) *image.RGBA64 {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	at := pixelReader(src)
	out := image.NewRGBA64(image.Rect(0, 0, nx, ny))
	sums := make([][4]uint64, nx)
	// edge returns the first source offset of bin i of n over a side of
	// length size, without overflowing int on 32-bit platforms.
	edge := func(i, n, size int) int { return int(int64(i) * int64(size) / int64(n)) }
	for j := 0; j < ny; j++ {
		y0, y1 := edge(j, ny, h), edge(j+1, ny, h)
		clear(sums)
		for y := b.Min.Y + y0; y < b.Min.Y+y1; y++ {
			for i := 0; i < nx; i++ {
				x0, x1 := edge(i, nx, w), edge(i+1, nx, w)
				s := &sums[i]
				for x := b.Min.X + x0; x < b.Min.X+x1; x++ {
					c := at(x, y)
					s[0] += uint64(c.R)
					s[1] += uint64(c.G)
					s[2] += uint64(c.B)
					s[3] += uint64(c.A)
				}
			}
		}
		rows := uint64(y1 - y0)
		for i := 0; i < nx; i++ {
			n := rows * uint64(edge(i+1, nx, w)-edge(i, nx, w))
			s := sums[i]
			out.SetRGBA64(i, j, color.RGBA64{
				R: uint16((s[0] + n/2) / n), G: uint16((s[1] + n/2) / n),
				B: uint16((s[2] + n/2) / n), A: uint16((s[3] + n/2) / n),
			})
		}
	}
	return out
}

// pixelReader returns a function reading src's alpha-premultiplied 16-bit
// colour at (x, y), without allocating for the standard image types.
func pixelReader(src image.Image) func(x, y int) color.RGBA64 {
	if m, ok := src.(image.RGBA64Image); ok {
		return m.RGBA64At
	}
	return func(x, y int) color.RGBA64 {
		r, g, b, a := src.At(x, y).RGBA()
		return color.RGBA64{R: uint16(r), G: uint16(g), B: uint16(b), A: uint16(a)}
	}
}
