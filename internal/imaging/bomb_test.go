package imaging

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"
)

// bombs are complete, valid PNGs (8-bit grey, zlib-compressed zero rows,
// written by scripts/hostile_inputs.py) of a few dozen KB whose shapes made
// the old resizer allocate 41 GB (1x40,000,000) or 2.5 GB and many seconds.
var bombs = []struct {
	file string
	w, h int
}{
	{"bomb-1x40000000.png", 1, 40_000_000},
	{"bomb-40000000x1.png", 40_000_000, 1},
	{"bomb-16x2500000.png", 16, 2_500_000},
}

func TestDecodeRefusesExtremeAspectRatios(t *testing.T) {
	for _, b := range bombs {
		t.Run(b.file, func(t *testing.T) {
			path := filepath.Join("testdata", b.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg, err := png.DecodeConfig(bytesReader(data)); err != nil || cfg.Width != b.w || cfg.Height != b.h {
				t.Fatalf("testdata %s: DecodeConfig = %+v, %v; want %dx%d", b.file, cfg, err, b.w, b.h)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = LoadFile(path, 0)
			runtime.ReadMemStats(&after)
			want := path + ": image is " + itoa(b.w) + "x" + itoa(b.h) + " pixels, an aspect ratio beyond the 100:1 allowed"
			if err == nil || err.Error() != want {
				t.Fatalf("LoadFile error %v, want %q", err, want)
			}
			var tl *TooLargeError
			if !errors.As(err, &tl) || tl.Width != b.w || tl.Height != b.h {
				t.Errorf("error %v is not a *TooLargeError for %dx%d", err, b.w, b.h)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("LoadFile allocated %d bytes before refusing, want < 1 MiB", alloc)
			}
		})
	}
}

func TestCheckSize(t *testing.T) {
	tests := []struct {
		name      string
		w, h, max int
		want      string // "" accepts
	}{
		{name: "square", w: 6000, h: 6000, max: MaxPixels},
		{name: "100:1 wide", w: 10000, h: 100, max: MaxPixels},
		{name: "1:100 tall", w: 100, h: 10000, max: MaxPixels},
		{name: "widest at the pixel limit", w: 63200, h: 632, max: MaxPixels},
		{name: "101:1", w: 101, h: 1, max: MaxPixels, want: "image is 101x1 pixels, an aspect ratio beyond the 100:1 allowed"},
		{name: "just past 100:1", w: 100, h: 10001, max: MaxPixels, want: "image is 100x10001 pixels, an aspect ratio beyond the 100:1 allowed"},
		{name: "1x40000000", w: 1, h: 40_000_000, max: MaxPixels, want: "image is 1x40000000 pixels, an aspect ratio beyond the 100:1 allowed"},
		{name: "too many pixels first", w: 1, h: 40_000_001, max: MaxPixels, want: "image is 1x40000001 pixels, more than the 40000000 allowed"},
		{name: "zero width", w: 0, h: 5, max: MaxPixels, want: "image is 0x5 pixels, dimensions must be positive"},
		{name: "huge sides do not overflow", w: 1 << 40, h: 1 << 40, max: MaxPixels, want: "more than the 40000000 allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkSize(tc.w, tc.h, tc.max)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("checkSize(%d, %d) = %v, want nil", tc.w, tc.h, err)
			case tc.want != "" && (err == nil || !contains(err.Error(), tc.want)):
				t.Fatalf("checkSize(%d, %d) = %v, want %q", tc.w, tc.h, err, tc.want)
			}
		})
	}
}

// TestToCIFARBoundedMemory resizes in-memory images of the bomb shapes
// (which Decode refuses, but other callers may build): the memory used on
// top of the image must stay small and the result must be right. The top
// (or left) half is black and the rest white.
func TestToCIFARBoundedMemory(t *testing.T) {
	for _, b := range bombs {
		t.Run(itoa(b.w)+"x"+itoa(b.h), func(t *testing.T) {
			m := image.NewGray(image.Rect(0, 0, b.w, b.h))
			tall := b.h > b.w
			for y := 0; y < b.h; y++ {
				for x := 0; x < b.w; x++ {
					if tall && y >= b.h/2 || !tall && x >= b.w/2 {
						m.Pix[y*m.Stride+x] = 255
					}
				}
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out := ToCIFAR(m)
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("ToCIFAR of %dx%d allocated %d bytes, want < 8 MiB", b.w, b.h, alloc)
			}
			for c := 0; c < 3; c++ {
				for y := 0; y < Height; y++ {
					for x := 0; x < Width; x++ {
						v := out[c*Plane+y*Width+x]
						pos := x
						if tall {
							pos = y
						}
						if pos < 14 && v != 0 || pos >= 18 && v != 255 {
							t.Fatalf("channel %d (%d,%d) = %d, want the half-black edge kept", c, x, y, v)
						}
					}
				}
			}
		})
	}
}

// TestToCIFARShrinksLikeCatmullRom checks that the box pre-averaging of
// large images changes the result little: a 3000x2000 smooth image
// resized by ToCIFAR and directly by the Catmull-Rom kernel agree within 2
// levels. Images up to 1024 pixels a side are resized exactly as before.
func TestToCIFARShrinksLikeCatmullRom(t *testing.T) {
	tests := []struct {
		name  string
		w, h  int
		tol   int
		kind  string
		exact bool
	}{
		{name: "640x480 unchanged", w: 640, h: 480, exact: true},
		{name: "1024x100 unchanged", w: 1024, h: 100, exact: true},
		{name: "3000x2000 close", w: 3000, h: 2000, tol: 2},
		{name: "2000x1100 close", w: 2000, h: 1100, tol: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := image.NewNRGBA(image.Rect(0, 0, tc.w, tc.h))
			for y := 0; y < tc.h; y++ {
				for x := 0; x < tc.w; x++ {
					m.SetNRGBA(x, y, color.NRGBA{R: uint8(255 * x / tc.w), G: uint8(255 * y / tc.h), B: uint8((x + y) * 255 / (tc.w + tc.h)), A: 255})
				}
			}
			direct := image.NewRGBA(image.Rect(0, 0, Width, Height))
			draw.CatmullRom.Scale(direct, direct.Bounds(), m, m.Bounds(), draw.Src, nil)
			want := make([]byte, Size)
			fromRGBA(want, direct)
			got := ToCIFAR(m)
			for i := range got {
				d := int(got[i]) - int(want[i])
				if tc.exact && d != 0 || d < -tc.tol || d > tc.tol {
					t.Fatalf("byte %d = %d, direct Catmull-Rom gives %d (tolerance %d)", i, got[i], want[i], tc.tol)
				}
			}
		})
	}
}

func TestUpscaleBoundedMemory(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 3, 4_000_000))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out := Upscale(m, 200, 150)
	runtime.ReadMemStats(&after)
	if out.Bounds() != image.Rect(0, 0, 200, 150) {
		t.Fatalf("Upscale bounds %v", out.Bounds())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Upscale of 3x4000000 allocated %d bytes, want < 16 MiB", alloc)
	}
}

// TestDecodeBudgetIsShared checks that a decode waits while the budget is
// taken by others and goes ahead once it is given back.
func TestDecodeBudgetIsShared(t *testing.T) {
	release := reserve(MaxPixels)
	done := make(chan struct{})
	go func() {
		defer close(done)
		img, _ := solid("gray", 4, 4)
		var buf = encodePNG(t, img)
		if _, err := Decode(bytesReader(buf), 0); err != nil {
			t.Errorf("Decode: %v", err)
		}
	}()
	select {
	case <-done:
		t.Fatal("Decode went ahead while the whole budget was taken")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Decode still waiting 10s after the budget was released")
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func itoa(n int) string { return strconv.Itoa(n) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Error(err)
	}
	return buf.Bytes()
}

// FuzzResample resizes images of arbitrary shapes (up to 4 million pixels,
// any aspect ratio) and output sizes: the result must have the asked size,
// a solid image must stay solid, and the memory used on top of the source
// must stay bounded by the output.
func FuzzResample(f *testing.F) {
	f.Add(uint32(1), uint32(4_000_000), uint16(32), uint16(32), uint8(200))
	f.Add(uint32(4_000_000), uint32(1), uint16(32), uint16(32), uint8(7))
	f.Add(uint32(16), uint32(250_000), uint16(200), uint16(150), uint8(0))
	f.Add(uint32(2049), uint32(1025), uint16(1), uint16(1), uint8(255))
	f.Add(uint32(3), uint32(3), uint16(500), uint16(2), uint8(128))
	f.Fuzz(func(t *testing.T, w, h uint32, dw, dh uint16, v uint8) {
		if w == 0 || h == 0 || uint64(w)*uint64(h) > 4_000_000 || dw == 0 || dh == 0 || int(dw)*int(dh) > 1<<20 {
			return
		}
		src := image.NewGray(image.Rect(0, 0, int(w), int(h)))
		for i := range src.Pix {
			src.Pix[i] = v
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		out := Upscale(src, int(dw), int(dh))
		runtime.ReadMemStats(&after)
		if out.Bounds() != image.Rect(0, 0, int(dw), int(dh)) {
			t.Fatalf("Upscale to %dx%d gave %v", dw, dh, out.Bounds())
		}
		// The output, the kernel's buffer of output width x (at most
		// max(1024, 4 x output height)) rows, weights and the box sums.
		limit := uint64(dw)*uint64(dh)*4 + uint64(dw)*uint64(max(1024, 4*int(dh)))*32 + 16<<20
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
			t.Fatalf("Upscale of %dx%d to %dx%d allocated %d bytes, limit %d", w, h, dw, dh, alloc, limit)
		}
		for i := 0; i < len(out.Pix); i += 4 {
			if p := out.Pix[i : i+4]; p[0] != v || p[1] != v || p[2] != v || p[3] != 255 {
				t.Fatalf("solid %d image resized to %dx%d has pixel %v at %d", v, dw, dh, p, i/4)
			}
		}
	})
}

// TestPlanarBoundedMemory converts in-memory images of the bomb shapes to
// a 28x28 grey and a 24x16 RGB input (what predict does for models of
// other geometries), with every fit: memory stays small and the
// half-black edge is kept.
func TestPlanarBoundedMemory(t *testing.T) {
	for _, b := range bombs {
		m := image.NewGray(image.Rect(0, 0, b.w, b.h))
		tall := b.h > b.w
		for y := 0; y < b.h; y++ {
			for x := 0; x < b.w; x++ {
				if tall && y >= b.h/2 || !tall && x >= b.w/2 {
					m.Pix[y*m.Stride+x] = 255
				}
			}
		}
		for _, s := range []Shape{{Width: 28, Height: 28, Channels: 1, Fit: Stretch}, {Width: 24, Height: 16, Channels: 3, Fit: Stretch}, {Width: 28, Height: 28, Channels: 1, Fit: Pad}, {Width: 28, Height: 28, Channels: 1, Fit: Crop}} {
			t.Run(itoa(b.w)+"x"+itoa(b.h)+" to "+s.String()+" "+string(s.Fit), func(t *testing.T) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				out := s.Convert(m)
				runtime.ReadMemStats(&after)
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
					t.Errorf("Convert of %dx%d to %s allocated %d bytes, want < 8 MiB", b.w, b.h, s, alloc)
				}
				if len(out) != s.Size() {
					t.Fatalf("%d bytes, want %d", len(out), s.Size())
				}
				if s.Fit != Stretch {
					return // the edge moves with the fit
				}
				for y := 0; y < s.Height; y++ {
					for x := 0; x < s.Width; x++ {
						pos, n := x, s.Width
						if tall {
							pos, n = y, s.Height
						}
						v := out[y*s.Width+x]
						if pos < n/2-2 && v != 0 || pos >= n/2+2 && v != 255 {
							t.Fatalf("(%d,%d) = %d, want the half-black edge kept", x, y, v)
						}
					}
				}
			})
		}
	}
}

// TestLoadFileAsRefusesBombs: the bomb files are refused from their
// header by LoadFileAs too (predict's loader for any model geometry).
func TestLoadFileAsRefusesBombs(t *testing.T) {
	for _, b := range bombs {
		path := filepath.Join("testdata", b.file)
		_, err := LoadFileAs(path, 0, Shape{Width: 28, Height: 28, Channels: 1})
		var tl *TooLargeError
		if !errors.As(err, &tl) || !strings.HasPrefix(err.Error(), path+": image is") {
			t.Errorf("%s: LoadFileAs error %v, want a *TooLargeError naming the file", b.file, err)
		}
	}
}
