package data

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// px returns the value of channel c at column x, row y of a planar image.
func px(img []byte, c, x, y int) byte { return img[c*planeSize+y*side+x] }

func randomImage(seed uint64) []byte {
	return synth(1, seed).Image(0)
}

func TestFlipH(t *testing.T) {
	src := randomImage(1)
	dst := make([]byte, imageSize)
	FlipH(dst, src, cifar)
	for c := range channels {
		for y := range side {
			for x := range side {
				if got, want := px(dst, c, x, y), px(src, c, side-1-x, y); got != want {
					t.Fatalf("flipped (c%d, %d, %d) = %d, want %d", c, x, y, got, want)
				}
			}
		}
	}
	twice := make([]byte, imageSize)
	FlipH(twice, dst, cifar)
	if !bytes.Equal(twice, src) {
		t.Fatal("flipping twice is not the identity")
	}
	inPlace := bytes.Clone(src)
	FlipH(inPlace, inPlace, cifar)
	if !bytes.Equal(inPlace, dst) {
		t.Fatal("in-place flip differs")
	}
}

// TestFlipHWidths checks FlipH, in place and not, on widths that take the
// 8-byte path with an even and an odd number of words per row and on
// widths that do not.
func TestFlipHWidths(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, g := range []Geometry{
		{Height: 3, Width: 8, Channels: 1}, {Height: 2, Width: 16, Channels: 3}, {Height: 5, Width: 24, Channels: 2},
		{Height: 4, Width: 40, Channels: 1}, {Height: 3, Width: 7, Channels: 3}, {Height: 2, Width: 1, Channels: 1},
		{Height: 32, Width: 32, Channels: 3},
	} {
		t.Run(g.String(), func(t *testing.T) {
			src := make([]byte, g.Size())
			for i := range src {
				src[i] = byte(r.Uint32())
			}
			want := make([]byte, g.Size())
			for row := 0; row < g.Size(); row += g.Width {
				for x := range g.Width {
					want[row+x] = src[row+g.Width-1-x]
				}
			}
			dst := make([]byte, g.Size()+1)
			dst[g.Size()] = 0x5A
			FlipH(dst, src, g)
			if !bytes.Equal(dst[:g.Size()], want) || dst[g.Size()] != 0x5A {
				t.Fatalf("FlipH = %v, want %v", dst, want)
			}
			in := bytes.Clone(src)
			FlipH(in, in, g)
			if !bytes.Equal(in, want) {
				t.Fatalf("in place: %v, want %v", in, want)
			}
		})
	}
}

func TestShift(t *testing.T) {
	src := randomImage(2)
	tests := []struct{ dx, dy int }{
		{0, 0}, {3, -2}, {-4, 4}, {1, 0}, {0, -1}, {31, 31}, {32, 0}, {0, -40}, {-100, 5},
	}
	for _, tc := range tests {
		dst := bytes.Repeat([]byte{0xAA}, imageSize)
		Shift(dst, src, cifar, tc.dx, tc.dy)
		for c := range channels {
			for y := range side {
				for x := range side {
					sx, sy := x-tc.dx, y-tc.dy
					var want byte
					if sx >= 0 && sx < side && sy >= 0 && sy < side {
						want = px(src, c, sx, sy)
					}
					if got := px(dst, c, x, y); got != want {
						t.Fatalf("shift (%d, %d): (c%d, %d, %d) = %d, want %d", tc.dx, tc.dy, c, x, y, got, want)
					}
				}
			}
		}
	}
}

func TestResizedCrop(t *testing.T) {
	t.Run("full box is the identity", func(t *testing.T) {
		src := randomImage(3)
		dst := make([]byte, imageSize)
		ResizedCrop(dst, src, cifar, 0, 0, side, side)
		if !bytes.Equal(dst, src) {
			t.Fatal("resized crop of the whole image changed it")
		}
	})
	t.Run("linear image", func(t *testing.T) {
		// Bilinear interpolation reproduces a linear image exactly: value
		// 4x+2y+c at the sample point (x0 + (i+0.5)*w/32 - 0.5, ...).
		src := make([]byte, imageSize)
		for c := range channels {
			for y := range side {
				for x := range side {
					src[c*planeSize+y*side+x] = byte(4*x + 2*y + c)
				}
			}
		}
		tests := []struct{ x0, y0, w, h float64 }{
			{8, 4, 16, 16}, {0.5, 1.25, 20, 24}, {10, 10, 8, 4},
		}
		for _, tc := range tests {
			dst := make([]byte, imageSize)
			ResizedCrop(dst, src, cifar, tc.x0, tc.y0, tc.w, tc.h)
			for c := range channels {
				for j := range side {
					for i := range side {
						sx := tc.x0 + (float64(i)+0.5)*tc.w/side - 0.5
						sy := tc.y0 + (float64(j)+0.5)*tc.h/side - 0.5
						want := math.Round(4*sx + 2*sy + float64(c))
						if got := float64(px(dst, c, i, j)); math.Abs(got-want) > 1 {
							t.Fatalf("box %v: (c%d, %d, %d) = %v, want %v", tc, c, i, j, got, want)
						}
					}
				}
			}
		}
	})
	t.Run("constant image stays constant", func(t *testing.T) {
		src := bytes.Repeat([]byte{77}, imageSize)
		dst := make([]byte, imageSize)
		ResizedCrop(dst, src, cifar, 3.3, 7.9, 11.2, 5.5)
		if !bytes.Equal(dst, src) {
			t.Fatal("constant image changed")
		}
	})
	t.Run("edges replicate", func(t *testing.T) {
		// A box hanging over the right edge samples the last column.
		src := make([]byte, imageSize)
		for y := range side {
			src[y*side+side-1] = 200
		}
		dst := make([]byte, imageSize)
		ResizedCrop(dst, src, cifar, 31, 0, 4, 32)
		if px(dst, 0, 31, 5) != 200 {
			t.Fatalf("beyond the edge: %d, want 200", px(dst, 0, 31, 5))
		}
	})
}

func TestResizedCropPanics(t *testing.T) {
	for _, box := range [][4]float64{{0, 0, 0, 32}, {0, 0, 32, -1}, {math.NaN(), 0, 32, 32}, {0, 0, math.Inf(1), 32}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("box %v accepted", box)
				}
			}()
			ResizedCrop(make([]byte, imageSize), make([]byte, imageSize), cifar, box[0], box[1], box[2], box[3])
		}()
	}
}

func TestAugmentEnabled(t *testing.T) {
	tests := []struct {
		a    Augment
		want bool
	}{
		{Augment{}, false},
		{Augment{Ratio: [2]float64{0.5, 2}}, false},
		{Augment{Flip: true}, true},
		{Augment{Pad: 4}, true},
		{Augment{Scale: [2]float64{0.8, 1}}, true},
	}
	for _, tc := range tests {
		if got := tc.a.Enabled(); got != tc.want {
			t.Errorf("%+v.Enabled() = %v, want %v", tc.a, got, tc.want)
		}
	}
}

func TestAugmentValidate(t *testing.T) {
	tests := []struct {
		a  Augment
		ok bool
	}{
		{Augment{}, true},
		{Augment{Flip: true, Pad: 4, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{0.75, 1.5}}, true},
		{Augment{Pad: -1}, false},
		{Augment{Pad: 33}, false},
		{Augment{Scale: [2]float64{0, 1}}, false},
		{Augment{Scale: [2]float64{0.9, 0.8}}, false},
		{Augment{Scale: [2]float64{0.5, 1.5}}, false},
		{Augment{Ratio: [2]float64{0, 1}}, false},
		{Augment{Ratio: [2]float64{2, 1}}, false},
		{Augment{Ratio: [2]float64{1, math.Inf(1)}}, false},
	}
	for _, tc := range tests {
		if err := tc.a.Validate(cifar); (err == nil) != tc.ok {
			t.Errorf("%+v.Validate(cifar) = %v, want ok=%v", tc.a, err, tc.ok)
		}
	}
}

// TestAugmentPadCrop checks that a padded random crop is the original
// shifted by an offset in [-Pad, Pad]^2, and that every offset gets drawn.
func TestAugmentPadCrop(t *testing.T) {
	src := randomImage(4)
	a := Augment{Pad: 2}
	seen := map[[2]int]int{}
	dst, want := make([]byte, imageSize), make([]byte, imageSize)
	for seed := range uint64(500) {
		apply(a, dst, src, rand.New(rand.NewPCG(seed, 0)))
		found := false
		for dy := -2; dy <= 2 && !found; dy++ {
			for dx := -2; dx <= 2 && !found; dx++ {
				Shift(want, src, cifar, dx, dy)
				if bytes.Equal(dst, want) {
					seen[[2]int{dx, dy}]++
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("seed %d: result is no shift of the original within the padding", seed)
		}
	}
	if len(seen) != 25 {
		t.Fatalf("drew %d of the 25 offsets: %v", len(seen), seen)
	}
}

// TestAugmentFlip checks that Flip gives either the original or its mirror,
// each about half the time.
func TestAugmentFlip(t *testing.T) {
	src := randomImage(5)
	mirror := make([]byte, imageSize)
	FlipH(mirror, src, cifar)
	dst := make([]byte, imageSize)
	flips := 0
	const n = 1000
	for seed := range uint64(n) {
		apply(Augment{Flip: true}, dst, src, rand.New(rand.NewPCG(seed, 1)))
		switch {
		case bytes.Equal(dst, mirror):
			flips++
		case !bytes.Equal(dst, src):
			t.Fatalf("seed %d: neither the original nor its mirror", seed)
		}
	}
	if flips < 400 || flips > 600 {
		t.Fatalf("%d flips in %d draws", flips, n)
	}
}

// TestAugmentScale checks that random resized crops stay within the image
// and the Scale and Ratio ranges, and that a constant image stays constant.
func TestAugmentScale(t *testing.T) {
	a := Augment{Scale: [2]float64{0.5, 0.9}, Ratio: [2]float64{0.8, 1.25}}
	for seed := range uint64(300) {
		x0, y0, w, h := a.cropBox(rand.New(rand.NewPCG(seed, 2)), cifar)
		area, ratio := w*h/(side*side), w/h
		if x0 < 0 || y0 < 0 || x0+w > side+1e-9 || y0+h > side+1e-9 ||
			area < 0.5-1e-9 || area > 0.9+1e-9 || ratio < 0.8-1e-9 || ratio > 1.25+1e-9 {
			t.Fatalf("seed %d: box (%v, %v, %v, %v) out of range", seed, x0, y0, w, h)
		}
	}
	// No try can fit: the fallback is the central box within Ratio.
	wide := Augment{Scale: [2]float64{1, 1}, Ratio: [2]float64{2, 3}}
	if x0, y0, w, h := wide.cropBox(rand.New(rand.NewPCG(1, 1)), cifar); x0 != 0 || y0 != 8 || w != 32 || h != 16 {
		t.Fatalf("fallback box (%v, %v, %v, %v), want (0, 8, 32, 16)", x0, y0, w, h)
	}
	src := bytes.Repeat([]byte{9}, imageSize)
	dst := make([]byte, imageSize)
	apply(Augment{Scale: [2]float64{0.2, 0.4}, Flip: true, Pad: 3}, dst, src, rand.New(rand.NewPCG(3, 3)))
	for i, v := range dst {
		if v != 9 && v != 0 { // 0: padding
			t.Fatalf("byte %d = %d after augmenting a constant image", i, v)
		}
	}
}

// TestAugmentDeterministic checks that Apply depends only on the rng state.
func TestAugmentDeterministic(t *testing.T) {
	src := randomImage(6)
	settings := []Augment{
		{Flip: true},
		{Pad: 4},
		{Flip: true, Pad: 4},
		{Scale: [2]float64{0.35, 1}},
		{Flip: true, Pad: 4, Scale: [2]float64{0.08, 1}, Ratio: [2]float64{0.5, 2}},
		{},
	}
	for _, a := range settings {
		x, y := make([]byte, imageSize), make([]byte, imageSize)
		distinct := map[string]bool{}
		for seed := range uint64(20) {
			apply(a, x, src, rand.New(rand.NewPCG(seed, 7)))
			apply(a, y, src, rand.New(rand.NewPCG(seed, 7)))
			if !bytes.Equal(x, y) {
				t.Fatalf("%+v seed %d: two runs differ", a, seed)
			}
			distinct[string(x)] = true
		}
		if a.Enabled() && len(distinct) < 2 {
			t.Fatalf("%+v: 20 seeds gave one result", a)
		}
		if !a.Enabled() && !bytes.Equal(x, src) {
			t.Fatal("disabled augmentation changed the image")
		}
	}
}

// TestAugmentInvalidSettingsDoNotPanic checks Apply's fallbacks.
func TestAugmentInvalidSettingsDoNotPanic(t *testing.T) {
	src := randomImage(7)
	dst := make([]byte, imageSize)
	for _, a := range []Augment{
		{Pad: 1000},
		{Pad: -3},
		{Scale: [2]float64{0, 0.0001}},
		{Scale: [2]float64{2, 3}},
		{Scale: [2]float64{0.5, 1}, Ratio: [2]float64{0, 0}},
		{Scale: [2]float64{0.5, 1}, Ratio: [2]float64{-1, math.Inf(1)}},
		{Scale: [2]float64{math.NaN(), 1}},
	} {
		apply(a, dst, src, rand.New(rand.NewPCG(1, 2)))
	}
}

func TestAugmentDoesNotAllocate(t *testing.T) {
	src := randomImage(8)
	dst := make([]byte, imageSize)
	rng := rand.New(rand.NewPCG(1, 2))
	a := Augment{Flip: true, Pad: 4, Scale: [2]float64{0.5, 1}}
	m := NewAugmenter(a, cifar)
	if n := testing.AllocsPerRun(50, func() { m.Apply(dst, src, rng) }); n != 0 {
		t.Fatalf("Apply allocates %v times per call", n)
	}
}

// BenchmarkAugment measures Apply on one image for typical settings.
func BenchmarkAugment(b *testing.B) {
	src := randomImage(9)
	dst := make([]byte, imageSize)
	for _, c := range []struct {
		name string
		a    Augment
	}{
		{"flip", Augment{Flip: true}},
		{"pad4", Augment{Pad: 4}},
		{"scale", Augment{Scale: [2]float64{0.35, 1}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := NewAugmenter(c.a, cifar)
			for b.Loop() {
				m.Apply(dst, src, rng)
			}
		})
	}
}
