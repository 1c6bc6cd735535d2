package data

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Geometries other than CIFAR's that every transform must handle: grey
// MNIST, an odd non-square grey image and a small non-square RGB one.
var otherGeometries = []Geometry{
	{Height: 28, Width: 28, Channels: 1},
	{Height: 5, Width: 7, Channels: 1},
	{Height: 6, Width: 9, Channels: 3},
}

// synthOf returns n random images of geometry g with labels i%classes.
func synthOf(g Geometry, n, classes int, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 2))
	d := &Dataset{Geometry: g, Images: make([]byte, n*g.Size()), Labels: make([]uint8, n)}
	for i := range d.Images {
		d.Images[i] = byte(r.UintN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(i % classes)
	}
	for c := range classes {
		d.Classes = append(d.Classes, string(rune('a'+c)))
	}
	return d
}

// at returns channel c at column x, row y of a planar image of geometry g.
func at(img []byte, g Geometry, c, x, y int) byte { return img[c*g.Plane()+y*g.Width+x] }

func TestGeometry(t *testing.T) {
	tests := []struct {
		name   string
		g      Geometry
		size   int
		str    string
		wantOK bool
	}{
		{name: "cifar", g: CIFARGeometry, size: 3072, str: "32x32x3", wantOK: true},
		{name: "mnist", g: Geometry{Height: 28, Width: 28, Channels: 1}, size: 784, str: "28x28x1", wantOK: true},
		{name: "zero", g: Geometry{}, str: "0x0x0"},
		{name: "negative", g: Geometry{Height: -1, Width: 4, Channels: 1}, size: -4, str: "-1x4x1"},
		{name: "too large", g: Geometry{Height: 1 << 13, Width: 1 << 13, Channels: 3}, size: 3 << 26, str: "8192x8192x3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.Size(); got != tc.size {
				t.Errorf("Size = %d, want %d", got, tc.size)
			}
			if got := tc.g.String(); got != tc.str {
				t.Errorf("String = %q, want %q", got, tc.str)
			}
			if err := tc.g.Validate(); (err == nil) != tc.wantOK {
				t.Errorf("Validate = %v, want ok=%v", err, tc.wantOK)
			}
		})
	}
}

// TestTransformsAnyGeometry checks flip, shift and resized crop against
// their definitions on non-CIFAR geometries.
func TestTransformsAnyGeometry(t *testing.T) {
	for _, g := range otherGeometries {
		t.Run(g.String(), func(t *testing.T) {
			src := synthOf(g, 1, 2, 1).Image(0)
			dst := bytes.Repeat([]byte{0xAA}, g.Size())
			FlipH(dst, src, g)
			for c := range g.Channels {
				for y := range g.Height {
					for x := range g.Width {
						if got, want := at(dst, g, c, x, y), at(src, g, c, g.Width-1-x, y); got != want {
							t.Fatalf("flipped (c%d, %d, %d) = %d, want %d", c, x, y, got, want)
						}
					}
				}
			}
			inPlace := bytes.Clone(src)
			FlipH(inPlace, inPlace, g)
			if !bytes.Equal(inPlace, dst) {
				t.Fatal("in-place flip differs")
			}
			for _, d := range [][2]int{{2, -1}, {-3, 2}, {g.Width, 0}, {0, -g.Height - 1}} {
				Shift(dst, src, g, d[0], d[1])
				for c := range g.Channels {
					for y := range g.Height {
						for x := range g.Width {
							sx, sy := x-d[0], y-d[1]
							var want byte
							if sx >= 0 && sx < g.Width && sy >= 0 && sy < g.Height {
								want = at(src, g, c, sx, sy)
							}
							if got := at(dst, g, c, x, y); got != want {
								t.Fatalf("shift %v: (c%d, %d, %d) = %d, want %d", d, c, x, y, got, want)
							}
						}
					}
				}
			}
			ResizedCrop(dst, src, g, 0, 0, float64(g.Width), float64(g.Height))
			if !bytes.Equal(dst, src) {
				t.Fatal("resized crop of the whole image changed it")
			}
			// A linear image stays linear under bilinear resampling.
			lin := make([]byte, g.Size())
			for c := range g.Channels {
				for y := range g.Height {
					for x := range g.Width {
						lin[c*g.Plane()+y*g.Width+x] = byte(5*x + 3*y + 7*c)
					}
				}
			}
			x0, y0, bw, bh := 1.25, 0.5, float64(g.Width)/2, float64(g.Height)*0.6
			ResizedCrop(dst, lin, g, x0, y0, bw, bh)
			for c := range g.Channels {
				for j := range g.Height {
					for i := range g.Width {
						sx := min(max(x0+(float64(i)+0.5)*bw/float64(g.Width)-0.5, 0), float64(g.Width-1))
						sy := min(max(y0+(float64(j)+0.5)*bh/float64(g.Height)-0.5, 0), float64(g.Height-1))
						want := math.Round(5*sx + 3*sy + 7*float64(c))
						if got := float64(at(dst, g, c, i, j)); math.Abs(got-want) > 1 {
							t.Fatalf("(c%d, %d, %d) = %v, want %v", c, i, j, got, want)
						}
					}
				}
			}
		})
	}
}

// TestAugmentAnyGeometry checks that random resized crops of non-square
// images stay inside them and within Scale and Ratio, that every padded
// crop offset is drawn, and that Apply is deterministic and allocation-free.
func TestAugmentAnyGeometry(t *testing.T) {
	for _, g := range otherGeometries {
		t.Run(g.String(), func(t *testing.T) {
			w, h := float64(g.Width), float64(g.Height)
			a := Augment{Scale: [2]float64{0.3, 0.9}, Ratio: [2]float64{0.7, 1.4}}
			for seed := range uint64(200) {
				x0, y0, bw, bh := a.cropBox(rand.New(rand.NewPCG(seed, 2)), g)
				if x0 < 0 || y0 < 0 || x0+bw > w+1e-9 || y0+bh > h+1e-9 {
					t.Fatalf("seed %d: box (%v, %v, %v, %v) outside %s", seed, x0, y0, bw, bh, g)
				}
				// The fallback box (no try fits) keeps the ratio range
				// but not necessarily the area range.
				if r := bw / bh; r < 0.7-1e-9 || r > 1.4+1e-9 {
					t.Fatalf("seed %d: ratio %v outside [0.7, 1.4]", seed, r)
				}
			}
			src := synthOf(g, 1, 2, 3).Image(0)
			pad := Augment{Pad: 1}
			seen := map[string]bool{}
			dst := make([]byte, g.Size())
			for seed := range uint64(200) {
				NewAugmenter(pad, g).Apply(dst, src, rand.New(rand.NewPCG(seed, 0)))
				seen[string(dst)] = true
			}
			if len(seen) != 9 {
				t.Fatalf("%d distinct padded crops, want 9", len(seen))
			}
			all := Augment{Flip: true, Pad: 2, Scale: [2]float64{0.5, 1}}
			if err := all.Validate(g); err != nil {
				t.Fatal(err)
			}
			m := NewAugmenter(all, g)
			x, y := make([]byte, g.Size()), make([]byte, g.Size())
			m.Apply(x, src, rand.New(rand.NewPCG(9, 9)))
			NewAugmenter(all, g).Apply(y, src, rand.New(rand.NewPCG(9, 9)))
			if !bytes.Equal(x, y) {
				t.Fatal("same seed, different augmentation")
			}
			rng := rand.New(rand.NewPCG(1, 2))
			if n := testing.AllocsPerRun(20, func() { m.Apply(x, src, rng) }); n != 0 {
				t.Fatalf("Apply allocates %v times per call", n)
			}
			if err := (Augment{Pad: max(g.Width, g.Height) + 1}).Validate(g); err == nil {
				t.Fatal("a pad larger than the image is valid")
			}
		})
	}
}

// TestStatsAnyGeometry checks per-channel stats and normalization of grey
// and non-square images against a direct computation.
func TestStatsAnyGeometry(t *testing.T) {
	for _, g := range otherGeometries {
		t.Run(g.String(), func(t *testing.T) {
			d := synthOf(g, 9, 3, 4)
			s := ComputeStats(d)
			if len(s.Mean) != g.Channels || len(s.Std) != g.Channels || s.Channels() != g.Channels {
				t.Fatalf("stats of %d channels for %s images", len(s.Mean), g)
			}
			for c := range g.Channels {
				var sum, sq float64
				for i := range d.Len() {
					for _, v := range d.Image(i)[c*g.Plane() : (c+1)*g.Plane()] {
						sum += float64(v) / 255
						sq += float64(v) / 255 * float64(v) / 255
					}
				}
				n := float64(d.Len() * g.Plane())
				mean := sum / n
				std := math.Sqrt(sq/n - mean*mean)
				if math.Abs(float64(s.Mean[c])-mean) > 1e-6 || math.Abs(float64(s.Std[c])-std) > 1e-6 {
					t.Errorf("channel %d: %v/%v, want %v/%v", c, s.Mean[c], s.Std[c], mean, std)
				}
			}
			x := make([]float32, 2*g.Size())
			y := make([]int, 2)
			Fill(x, y, d, []int{4, 1}, s)
			want := make([]float32, g.Size())
			s.Normalize(want, d.Image(1))
			if !slices.Equal(x[g.Size():], want) || y[1] != int(d.Labels[1]) {
				t.Fatal("Fill differs from Normalize")
			}
			last := g.Size() - 1 // last byte: last channel
			c := g.Channels - 1
			if v := (float32(d.Image(1)[last])/255 - s.Mean[c]) / s.Std[c]; want[last] != v {
				t.Fatalf("normalized last byte = %v, want %v", want[last], v)
			}
		})
	}
}

// TestLoaderAnyGeometry checks that the loader's augmented grey batches are
// the documented per-position augmentations, normalized.
func TestLoaderAnyGeometry(t *testing.T) {
	g := Geometry{Height: 28, Width: 28, Channels: 1}
	d := synthOf(g, 11, 4, 5)
	stats := ComputeStats(d)
	a := Augment{Flip: true, Pad: 3, Scale: [2]float64{0.6, 1}}
	order := EpochOrder(d.Len(), 3, 1)
	for _, workers := range []int{1, 2} {
		batches := collect(t, LoaderOptions{Data: d, Stats: stats, Order: order, Batch: 4, Augment: a, Seed: 8, Epoch: 1, Workers: workers})
		if len(batches) != 3 || batches[2].Size != 3 {
			t.Fatalf("%d batches, want 3 (the last of 3)", len(batches))
		}
		img := make([]byte, g.Size())
		want := make([]float32, g.Size())
		for p, id := range order {
			NewAugmenter(a, g).Apply(img, d.Image(id), rand.New(rand.NewPCG(8, 1<<32|uint64(p))))
			stats.Normalize(want, img)
			b := batches[p/4]
			if got := b.X[(p%4)*g.Size() : (p%4+1)*g.Size()]; !slices.Equal(got, want) {
				t.Fatalf("workers %d, position %d: batch differs", workers, p)
			}
		}
	}
}
