package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// The image transforms below work on one image of geometry g in the planar
// layout of Dataset.Images: g.Size() bytes, the g.Channels planes one after
// the other, each row-major. They panic if dst or src is shorter than
// g.Size() (a programmer error); bytes past it are left alone.

// FlipH writes the left-right mirror image of src into dst. dst may be src
// itself (the flip is then done in place) but must not otherwise overlap it.
func FlipH(dst, src []byte, g Geometry) {
	n, w := g.Size(), g.Width
	dst, src = dst[:n], src[:n]
	if w%8 == 0 {
		flipWords(dst, src, w)
		return
	}
	for row := 0; row < n; row += w {
		s, d := src[row:row+w], dst[row:row+w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			a, b := s[i], s[j]
			d[i], d[j] = b, a
		}
		if w%2 == 1 {
			d[w/2] = s[w/2]
		}
	}
}

// flipWords is FlipH for rows of w bytes, w a multiple of 8: it reverses
// each row 8 bytes at a time, swapping the byte-reversed words from both
// ends (both are read before either is written, so dst may be src).
func flipWords(dst, src []byte, w int) {
	words := w / 8
	for row := 0; row+w <= len(src); row += w {
		s, d := src[row:row+w], dst[row:row+w]
		for i, j := 0, words-1; i <= j; i, j = i+1, j-1 {
			a := binary.LittleEndian.Uint64(s[8*i:])
			b := binary.LittleEndian.Uint64(s[8*j:])
			binary.LittleEndian.PutUint64(d[8*i:], bits.ReverseBytes64(b))
			binary.LittleEndian.PutUint64(d[8*j:], bits.ReverseBytes64(a))
		}
	}
}

// Shift writes src moved by dx pixels to the right and dy pixels down into
// dst: dst(x, y) = src(x-dx, y-dy), and 0 where that falls outside src. It
// is the crop of src zero-padded by P pixels at offset (P-dx, P-dy). dst and
// src must not overlap.
func Shift(dst, src []byte, g Geometry, dx, dy int) {
	w, h, plane := g.Width, g.Height, g.Plane()
	dst, src = dst[:g.Size()], src[:g.Size()]
	dx = min(max(dx, -w), w)
	for c := range g.Channels {
		p := c * plane
		for y := range h {
			d := dst[p+y*w : p+(y+1)*w]
			sy := y - dy
			if sy < 0 || sy >= h {
				clear(d)
				continue
			}
			s := src[p+sy*w : p+(sy+1)*w]
			if dx >= 0 {
				clear(d[:dx])
				copy(d[dx:], s[:w-dx])
			} else {
				copy(d[:w+dx], s[-dx:])
				clear(d[w+dx:])
			}
		}
	}
}

// ResizedCrop writes into dst the box of src with top-left corner (x0, y0),
// width bw and height bh, resized to the image's own size by bilinear
// interpolation. Pixel (i, j) covers [i, i+1) x [j, j+1), so the whole image
// is the box (0, 0, Width, Height), for which ResizedCrop copies src
// exactly. Weights are rounded to multiples of 1/256, and results to the
// nearest byte. Sample points follow the half-pixel convention of PyTorch's
// interpolate with align_corners=False; points outside the image take the
// nearest edge pixel. The box may be fractional. dst and src must not
// overlap. It panics if bw or bh is not a positive finite number, or x0 or
// y0 is not finite.
func ResizedCrop(dst, src []byte, g Geometry, x0, y0, bw, bh float64) {
	resizedCrop(dst, src, g, x0, y0, bw, bh, make([]sample, g.Width), make([]sample, g.Height), make([]uint32, g.Width))
}

// resizedCrop is ResizedCrop with scratch space: xs and ys of Width and
// Height samples, col of Width values.
func resizedCrop(dst, src []byte, g Geometry, x0, y0, bw, bh float64, xs, ys []sample, col []uint32) {
	for _, v := range []float64{x0, y0, bw, bh} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			panic(fmt.Sprintf("data.ResizedCrop: non-finite box (%v, %v, %v, %v)", x0, y0, bw, bh))
		}
	}
	if bw <= 0 || bh <= 0 {
		panic(fmt.Sprintf("data.ResizedCrop: empty box (%v, %v, %v, %v)", x0, y0, bw, bh))
	}
	w, plane := g.Width, g.Plane()
	dst, src = dst[:g.Size()], src[:g.Size()]
	xs, ys, col = xs[:w], ys[:g.Height], col[:w]
	samples(xs, x0, bw)
	samples(ys, y0, bh)
	for c := range g.Channels {
		s := src[c*plane : (c+1)*plane]
		d := dst[c*plane : (c+1)*plane]
		for j, sy := range ys {
			r0 := s[sy.i0*uint(w):][:w]
			r1 := s[sy.i1*uint(w):][:w]
			out := d[j*w:][:w]
			// Blend the two source rows, then interpolate along the row:
			// the same integer sums as the textbook order, in fewer steps.
			wy1 := sy.f
			wy0 := weightOne - wy1
			for k := range col {
				col[k] = uint32(r0[k])*wy0 + uint32(r1[k])*wy1
			}
			for i, sx := range xs {
				wx1 := sx.f
				out[i] = byte((col[sx.i0]*(weightOne-wx1) + col[sx.i1]*wx1 + weightOne*weightOne/2) >> (2 * weightBits))
			}
		}
	}
}

// Bilinear weights are fixed-point numbers with weightBits fractional bits.
const (
	weightBits = 8
	weightOne  = 1 << weightBits
)

// sample is a bilinear sample position along one axis: pixels i0 and i1
// with weights weightOne-f and f (fixed point).
type sample struct {
	i0, i1 uint
	f      uint32
}

// samples fills s with the positions of the len(s) output pixels of the
// span [start, start+length) of an axis of len(s) pixels.
func samples(s []sample, start, length float64) {
	n := float64(len(s))
	last := uint(len(s) - 1)
	for i := range s {
		p := start + (float64(i)+0.5)*length/n - 0.5
		p = min(max(p, 0), n-1)
		i0 := uint(p)
		s[i] = sample{i0: i0, i1: min(i0+1, last), f: uint32(math.Round((p - float64(i0)) * weightOne))}
	}
}

// Augment configures random data augmentation of training images. The zero
// value does nothing. Apply performs, in this order and for those enabled, a
// random resized crop (Scale), a random crop with zero padding (Pad) and a
// random horizontal flip (Flip).
type Augment struct {
	// Flip mirrors the image left-right with probability 1/2.
	Flip bool `json:"flip"`
	// Pad enables the random crop of the image zero-padded by Pad pixels on
	// every side: the content is shifted by a uniform (dx, dy) in
	// [-Pad, Pad]^2 (4 is the usual value). 0 turns it off.
	Pad int `json:"pad"`
	// Scale is the range of the area of a random resized crop, as a
	// fraction of the image (for example {0.8, 1}); the box is resized back
	// to the image's size. The zero value turns it off.
	Scale [2]float64 `json:"scale"`
	// Ratio is the range of the aspect ratio (width/height) of the random
	// resized crop; the zero value means {3/4, 4/3}.
	Ratio [2]float64 `json:"ratio"`
}

// Enabled reports whether Apply changes anything: whether some
// augmentation is turned on.
func (a Augment) Enabled() bool {
	return a.Flip || a.Pad > 0 || a.scaleOn()
}

func (a Augment) scaleOn() bool { return a.Scale != [2]float64{} }

func (a Augment) ratio() [2]float64 {
	if a.Ratio == [2]float64{} {
		return [2]float64{3.0 / 4, 4.0 / 3}
	}
	return a.Ratio
}

// Validate reports settings out of range for images of geometry g: Pad
// outside [0, max(Height, Width)], a Scale other than the zero value or
// 0 < lo <= hi <= 1, or a Ratio other than the zero value or 0 < lo <= hi
// (finite).
func (a Augment) Validate(g Geometry) error {
	if side := max(g.Height, g.Width); a.Pad < 0 || a.Pad > side {
		return fmt.Errorf("augment: pad must be in [0, %d], got %d", side, a.Pad)
	}
	if a.scaleOn() && !(a.Scale[0] > 0 && a.Scale[0] <= a.Scale[1] && a.Scale[1] <= 1) {
		return fmt.Errorf("augment: scale must be a range 0 < lo <= hi <= 1, got %v", a.Scale)
	}
	if r := a.Ratio; r != [2]float64{} && !(r[0] > 0 && r[0] <= r[1] && !math.IsInf(r[1], 0)) {
		return fmt.Errorf("augment: ratio must be a range 0 < lo <= hi, got %v", r)
	}
	return nil
}

// Augmenter applies an Augment to images of one geometry with scratch space
// of its own, so Apply does not allocate. It is not safe for concurrent
// use: give every goroutine its own.
type Augmenter struct {
	a      Augment
	g      Geometry
	tmp    []byte
	xs, ys []sample
	col    []uint32
}

// NewAugmenter returns an Augmenter of a for images of geometry g.
func NewAugmenter(a Augment, g Geometry) *Augmenter {
	return &Augmenter{a: a, g: g, tmp: make([]byte, g.Size()),
		xs: make([]sample, g.Width), ys: make([]sample, g.Height), col: make([]uint32, g.Width)}
}

// Apply writes an augmented copy of the image src into dst, drawing its
// random choices from rng, so a given rng state always gives the same
// result. dst and src must not overlap. Settings that Validate rejects do
// not make it panic: Pad is clamped to [0, max(Height, Width)] and an
// impossible Scale or Ratio falls back to the whole image.
func (m *Augmenter) Apply(dst, src []byte, rng *rand.Rand) {
	a, g := m.a, m.g
	dst, src = dst[:g.Size()], src[:g.Size()]
	pad := min(a.Pad, max(g.Height, g.Width))
	cur := src
	if a.scaleOn() {
		out := dst
		if pad > 0 {
			out = m.tmp
		}
		x0, y0, w, h := a.cropBox(rng, g)
		resizedCrop(out, cur, g, x0, y0, w, h, m.xs, m.ys, m.col)
		cur = out
	}
	if pad > 0 {
		n := uint64(2*pad + 1)
		dx := int(uniformN(rng, n)) - pad
		dy := int(uniformN(rng, n)) - pad
		Shift(dst, cur, g, dx, dy)
		cur = dst
	}
	if len(dst) > 0 && &cur[0] != &dst[0] {
		copy(dst, cur)
	}
	if a.Flip && rng.Uint64()>>63 == 1 {
		FlipH(dst, dst, g)
	}
}

// cropBox draws a box of an image of geometry g as torchvision's
// RandomResizedCrop does, but with fractional corners and sides: up to 10
// tries of an area fraction uniform in Scale and a log-uniform aspect ratio
// in Ratio, placed uniformly; if no try fits in the image, the central box
// of the largest area whose ratio is within Ratio.
func (a Augment) cropBox(rng *rand.Rand, g Geometry) (x0, y0, w, h float64) {
	width, height := float64(g.Width), float64(g.Height)
	r := a.ratio()
	logLo, logHi := math.Log(r[0]), math.Log(r[1])
	for range 10 {
		area := width * height * (a.Scale[0] + (a.Scale[1]-a.Scale[0])*unitFloat(rng))
		ar := math.Exp(logLo + (logHi-logLo)*unitFloat(rng))
		w, h = math.Sqrt(area*ar), math.Sqrt(area/ar)
		if w > 0 && w <= width && h > 0 && h <= height {
			return (width - w) * unitFloat(rng), (height - h) * unitFloat(rng), w, h
		}
	}
	w, h = width, height
	switch in := width / height; {
	case in < r[0] && !math.IsInf(r[0], 0):
		h = width / r[0]
	case in > r[1] && r[1] > 0:
		w = height * r[1]
	}
	return (width - w) / 2, (height - h) / 2, w, h
}

// unitFloat returns a uniform value in [0, 1) from the top 53 bits of one
// draw of rng's source (independent of the Go version, like EpochOrder).
func unitFloat(rng *rand.Rand) float64 {
	return float64(rng.Uint64()>>11) * 0x1p-53
}

// uniformN returns an unbiased value in [0, n) (n > 0) from rng's source
// with Lemire's method, like uniform.
func uniformN(rng *rand.Rand, n uint64) uint64 {
	hi, lo := bits.Mul64(rng.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(rng.Uint64(), n)
		}
	}
	return hi
}
