package imaging

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// opaque hides the concrete type of an image so ToCIFAR takes its generic
// At-based path.
type opaque struct{ image.Image }

// noise returns a w x h image of model kind filled with deterministic
// pseudo-random pixels.
func noise(kind string, w, h int, seed uint64) image.Image {
	rng := rand.New(rand.NewPCG(seed, 7))
	r := image.Rect(0, 0, w, h)
	b := func() uint8 { return uint8(rng.UintN(256)) }
	w16 := func() uint16 { return uint16(rng.UintN(65536)) }
	switch kind {
	case "gray":
		m := image.NewGray(r)
		for i := range m.Pix {
			m.Pix[i] = b()
		}
		return m
	case "gray16":
		m := image.NewGray16(r)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m.SetGray16(x, y, color.Gray16{Y: w16()})
			}
		}
		return m
	case "rgba":
		m := image.NewRGBA(r)
		for i := range m.Pix {
			m.Pix[i] = b()
			if i%4 == 3 {
				m.Pix[i] = 0xff
			}
		}
		return m
	case "nrgba":
		m := image.NewNRGBA(r)
		for i := range m.Pix {
			m.Pix[i] = b()
		}
		return m
	case "rgba64":
		m := image.NewRGBA64(r)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				a := w16()
				m.SetRGBA64(x, y, color.RGBA64{R: w16() % (a + 1), G: w16() % (a + 1), B: w16() % (a + 1), A: a})
			}
		}
		return m
	case "paletted":
		m := image.NewPaletted(r, palette.Plan9)
		for i := range m.Pix {
			m.Pix[i] = b()
		}
		return m
	case "ycbcr":
		m := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = b()
			}
		}
		return m
	case "cmyk":
		m := image.NewCMYK(r)
		for i := range m.Pix {
			m.Pix[i] = b()
		}
		return m
	}
	panic("unknown kind " + kind)
}

// solid returns a w x h image of model kind filled with one colour, and
// that colour as CIFAR-10 expects it (composited over black, 8-bit).
func solid(kind string, w, h int) (image.Image, [3]byte) {
	r := image.Rect(0, 0, w, h)
	var m interface {
		image.Image
		Set(x, y int, c color.Color)
	}
	var c color.Color
	switch kind {
	case "gray":
		m, c = image.NewGray(r), color.Gray{Y: 0x9a}
	case "gray16":
		m, c = image.NewGray16(r), color.Gray16{Y: 0x1234}
	case "rgba":
		m, c = image.NewRGBA(r), color.RGBA{R: 200, G: 17, B: 99, A: 255}
	case "nrgba":
		m, c = image.NewNRGBA(r), color.NRGBA{R: 200, G: 100, B: 50, A: 128}
	case "rgba64":
		m, c = image.NewRGBA64(r), color.RGBA64{R: 0x8000, G: 0x4000, B: 0x2000, A: 0xc000}
	case "paletted":
		m, c = image.NewPaletted(r, palette.Plan9), palette.Plan9[77]
	case "ycbcr":
		y := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		for i := range y.Y {
			y.Y[i] = 120
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = 90, 170
		}
		rr, g, b := color.YCbCrToRGB(120, 90, 170)
		return y, [3]byte{rr, g, b}
	case "cmyk":
		m, c = image.NewCMYK(r), color.CMYK{C: 10, M: 200, Y: 30, K: 40}
	default:
		panic("unknown kind " + kind)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, c)
		}
	}
	cr, cg, cb, _ := c.RGBA()
	return m, [3]byte{byte(cr >> 8), byte(cg >> 8), byte(cb >> 8)}
}

var kinds = []string{"gray", "gray16", "rgba", "nrgba", "rgba64", "paletted", "ycbcr", "cmyk"}

// generic is the reference conversion of a 32x32 image: each pixel's
// premultiplied colour, high byte, in planar order.
func generic(img image.Image) []byte {
	out := make([]byte, Size)
	b := img.Bounds()
	for y := 0; y < Height; y++ {
		for x := 0; x < Width; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*Width + x
			out[i], out[Plane+i], out[2*Plane+i] = byte(r>>8), byte(g>>8), byte(bl>>8)
		}
	}
	return out
}

func TestToCIFARIdentity(t *testing.T) {
	src := noise("rgba", Width, Height, 1).(*image.RGBA)
	want := make([]byte, Size)
	for i := 0; i < Plane; i++ {
		want[i], want[Plane+i], want[2*Plane+i] = src.Pix[4*i], src.Pix[4*i+1], src.Pix[4*i+2]
	}
	var nrgba = image.NewNRGBA(src.Rect)
	copy(nrgba.Pix, src.Pix) // opaque, so NRGBA == RGBA bytes
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, src); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	decoded, err := Decode(bytes.NewReader(pngBuf.Bytes()), 0)
	if err != nil {
		t.Fatalf("decode png: %v", err)
	}
	tests := []struct {
		name string
		img  image.Image
	}{
		{name: "rgba", img: src},
		{name: "nrgba opaque", img: nrgba},
		{name: "generic path", img: opaque{src}},
		{name: "png round trip", img: decoded},
		{name: "sub-image with offset", img: func() image.Image {
			big := image.NewRGBA(image.Rect(-5, 3, 40, 50))
			for y := 0; y < Height; y++ {
				copy(big.Pix[big.PixOffset(2, 10+y):], src.Pix[src.PixOffset(0, y):src.PixOffset(0, y+1)])
			}
			return big.SubImage(image.Rect(2, 10, 34, 42))
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToCIFAR(tt.img)
			if !bytes.Equal(got, want) {
				t.Fatalf("ToCIFAR changed a 32x32 RGB image (first difference at byte %d)", firstDiff(got, want))
			}
			back := FromCIFAR(got)
			if !bytes.Equal(back.Pix, src.Pix) {
				t.Fatalf("FromCIFAR(ToCIFAR(img)) != img (first difference at byte %d)", firstDiff(back.Pix, src.Pix))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestToCIFARFastPathsMatchGeneric(t *testing.T) {
	for i, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			img := noise(kind, Width, Height, uint64(i)+10)
			got := ToCIFAR(img)
			want := generic(img)
			if !bytes.Equal(got, want) {
				t.Fatalf("fast path differs from color model conversion at byte %d: got %d want %d",
					firstDiff(got, want), got[firstDiff(got, want)], want[firstDiff(got, want)])
			}
		})
	}
}

func TestToCIFARSolid(t *testing.T) {
	sizes := []image.Point{{1, 1}, {7, 300}, {640, 480}, {32, 32}, {33, 31}, {300, 7}}
	for _, kind := range kinds {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s %dx%d", kind, sz.X, sz.Y), func(t *testing.T) {
				img, want := solid(kind, sz.X, sz.Y)
				assertSolid(t, ToCIFAR(img), want, 0)
			})
		}
	}
}

// assertSolid checks that every pixel of a CIFAR image is want, within tol.
func assertSolid(t *testing.T, got []byte, want [3]byte, tol int) {
	t.Helper()
	if len(got) != Size {
		t.Fatalf("len = %d, want %d", len(got), Size)
	}
	for c := 0; c < 3; c++ {
		for i := 0; i < Plane; i++ {
			d := int(got[c*Plane+i]) - int(want[c])
			if d < -tol || d > tol {
				t.Fatalf("channel %d pixel %d = %d, want %d±%d", c, i, got[c*Plane+i], want[c], tol)
			}
		}
	}
}

func TestToCIFARTransparentOverBlack(t *testing.T) {
	tests := []struct {
		name string
		c    color.NRGBA
		want [3]byte
	}{
		{name: "fully transparent", c: color.NRGBA{R: 255, G: 255, B: 255, A: 0}, want: [3]byte{0, 0, 0}},
		{name: "half white", c: color.NRGBA{R: 255, G: 255, B: 255, A: 128}, want: [3]byte{128, 128, 128}},
		{name: "opaque", c: color.NRGBA{R: 1, G: 2, B: 3, A: 255}, want: [3]byte{1, 2, 3}},
	}
	for _, tt := range tests {
		for _, sz := range []int{32, 5, 64} {
			t.Run(fmt.Sprintf("%s %d", tt.name, sz), func(t *testing.T) {
				m := image.NewNRGBA(image.Rect(0, 0, sz, sz))
				for i := 0; i < len(m.Pix); i += 4 {
					m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = tt.c.R, tt.c.G, tt.c.B, tt.c.A
				}
				assertSolid(t, ToCIFAR(m), tt.want, 0)
			})
		}
	}
}

func TestToCIFARResizes(t *testing.T) {
	// Left half black, right half white: after resizing the left columns
	// must be dark and the right columns bright, in every channel.
	m := image.NewGray(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 320; x < 640; x++ {
			m.Pix[m.PixOffset(x, y)] = 255
		}
	}
	got := ToCIFAR(m)
	for c := 0; c < 3; c++ {
		for y := 0; y < Height; y++ {
			for x := 0; x < Width; x++ {
				v := got[c*Plane+y*Width+x]
				if x < 14 && v != 0 || x >= 18 && v != 255 {
					t.Fatalf("channel %d (%d,%d) = %d, want edge preserved", c, x, y, v)
				}
			}
		}
	}
}

type encoder struct {
	name string
	enc  func(io.Writer, image.Image) error
	tol  int // lossy formats may shift colours
}

var encoders = map[string]encoder{
	"png":  {name: "png", enc: png.Encode},
	"jpeg": {name: "jpeg", enc: func(w io.Writer, m image.Image) error { return jpeg.Encode(w, m, &jpeg.Options{Quality: 100}) }, tol: 3},
	"gif":  {name: "gif", enc: func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }},
}

func TestDecodeFormats(t *testing.T) {
	tests := []struct {
		name      string
		kind      string
		format    string
		wantModel color.Model
		tol       int
	}{
		{name: "RGBA PNG", kind: "rgba", format: "png", wantModel: color.RGBAModel},
		{name: "NRGBA PNG", kind: "nrgba", format: "png", wantModel: color.NRGBAModel},
		{name: "gray PNG", kind: "gray", format: "png", wantModel: color.GrayModel},
		{name: "16-bit gray PNG", kind: "gray16", format: "png", wantModel: color.Gray16Model},
		// The encoder un-premultiplies translucent RGBA64 to NRGBA64,
		// which can move a 16-bit sample by one unit and its high byte by one.
		{name: "16-bit RGBA PNG", kind: "rgba64", format: "png", wantModel: color.NRGBA64Model, tol: 1},
		{name: "paletted PNG", kind: "paletted", format: "png"},
		{name: "paletted GIF", kind: "paletted", format: "gif"},
		{name: "JPEG YCbCr", kind: "ycbcr", format: "jpeg", wantModel: color.YCbCrModel},
		{name: "JPEG gray", kind: "gray", format: "jpeg", wantModel: color.GrayModel},
	}
	sizes := []image.Point{{1, 1}, {7, 300}, {640, 480}}
	for _, tt := range tests {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s %dx%d", tt.name, sz.X, sz.Y), func(t *testing.T) {
				img, want := solid(tt.kind, sz.X, sz.Y)
				e := encoders[tt.format]
				var buf bytes.Buffer
				if err := e.enc(&buf, img); err != nil {
					t.Fatalf("encode %s: %v", tt.format, err)
				}
				got, err := Decode(&buf, 0)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got.Bounds().Size() != sz {
					t.Fatalf("decoded size %v, want %v", got.Bounds().Size(), sz)
				}
				if tt.wantModel != nil && got.ColorModel() != tt.wantModel {
					t.Errorf("colour model %T, want %T", got.ColorModel(), tt.wantModel)
				}
				if tt.kind == "paletted" {
					if _, ok := got.(*image.Paletted); !ok {
						t.Errorf("decoded %T, want *image.Paletted", got)
					}
				}
				assertSolid(t, ToCIFAR(got), want, e.tol+tt.tol)
			})
		}
	}
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

// pngBomb is a valid PNG signature and IHDR claiming w x h 8-bit RGBA,
// followed by a truncated IDAT of garbage.
func pngBomb(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // bit depth 8, colour type RGBA
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	idat := pngChunk("IDAT", bytes.Repeat([]byte{0x78, 0x9c, 0xde, 0xad}, 64))
	return append(b, idat[:len(idat)/2]...)
}

// gifBomb is a GIF header with a w x h logical screen and nothing else.
func gifBomb(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0x00, 0x00, 0x00, 0x2c, 0x00)
}

// jpegBomb is a baseline JPEG whose SOF0 claims w x h, then garbage.
func jpegBomb(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	// SOS header, then garbage where the entropy-coded data would be.
	b = append(b, 0xff, 0xda, 0x00, 0x0c, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 0x3f, 0)
	return append(b, bytes.Repeat([]byte{0x55}, 100)...)
}

func TestDecodeRefusesLargeHeaders(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		maxPixels int
		wantMsg   string
		// notTooLarge: the decoder itself refuses the header first.
		notTooLarge bool
	}{
		{name: "PNG 100000x100000", data: pngBomb(100000, 100000), wantMsg: "image is 100000x100000 pixels, more than the 40000000 allowed"},
		{name: "PNG over custom limit", data: pngBomb(101, 100), maxPixels: 10000, wantMsg: "image is 101x100 pixels, more than the 10000 allowed"},
		{name: "PNG overflowing sides", data: pngBomb(1<<31-1, 1<<31-1), wantMsg: "png: unsupported feature: dimension overflow", notTooLarge: true},
		{name: "GIF 65535x65535", data: gifBomb(65535, 65535), wantMsg: "image is 65535x65535 pixels, more than the 40000000 allowed"},
		{name: "GIF zero size", data: gifBomb(0, 0), wantMsg: "image is 0x0 pixels, dimensions must be positive"},
		{name: "JPEG 65535x65535", data: jpegBomb(65535, 65535), wantMsg: "image is 65535x65535 pixels, more than the 40000000 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			img, err := Decode(bytes.NewReader(tt.data), tt.maxPixels)
			runtime.ReadMemStats(&after)
			if img != nil || err == nil {
				t.Fatalf("Decode = %v, %v; want refusal", img, err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error %q, want %q", err, tt.wantMsg)
			}
			var tl *TooLargeError
			if !errors.As(err, &tl) && !tt.notTooLarge {
				t.Errorf("error %v is %T, want *TooLargeError", err, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("Decode allocated %d bytes before refusing, want < 1 MiB", alloc)
			}
		})
	}
}

func TestDecodeAcceptsAtLimit(t *testing.T) {
	img, _ := solid("rgba", 100, 100)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode: %v", err)
	}
	tests := []struct {
		name      string
		maxPixels int
		wantErr   bool
	}{
		{name: "exactly at limit", maxPixels: 10000},
		{name: "one below", maxPixels: 9999, wantErr: true},
		{name: "default", maxPixels: 0},
		{name: "negative means default", maxPixels: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(buf.Bytes()), tt.maxPixels)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode err = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// failReader returns data, then err.
type failReader struct {
	data []byte
	err  error
}

func (f *failReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDecodeReportsReadErrors(t *testing.T) {
	errBoom := errors.New("boom")
	img, _ := solid("rgba", 50, 50)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode: %v", err)
	}
	full := buf.Bytes()
	tests := []struct {
		name    string
		r       io.Reader
		wantErr error
	}{
		{name: "empty", r: bytes.NewReader(nil), wantErr: ErrEmpty},
		{name: "fails at first byte", r: &failReader{err: errBoom}, wantErr: errBoom},
		{name: "fails during sniffing", r: &failReader{data: full[:3], err: errBoom}, wantErr: errBoom},
		{name: "fails in pixel data", r: &failReader{data: full[:len(full)-20], err: errBoom}, wantErr: errBoom},
		{name: "truncated header", r: bytes.NewReader(full[:20]), wantErr: io.ErrUnexpectedEOF},
		{name: "truncated pixels keep decoder cause", r: bytes.NewReader(full[:len(full)/2]), wantErr: png.FormatError("not enough pixel data")},
		{name: "truncated pixels are unexpected EOF", r: bytes.NewReader(full[:len(full)/2]), wantErr: io.ErrUnexpectedEOF},
		{name: "unknown format", r: strings.NewReader("hello, world"), wantErr: image.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.r, 0)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
}

func encodeBytes(t *testing.T, e encoder, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := e.enc(&buf, img); err != nil {
		t.Fatalf("encode %s: %v", e.name, err)
	}
	return buf.Bytes()
}

func TestLoadFile(t *testing.T) {
	t.Chdir(t.TempDir())
	jpg := encodeBytes(t, encoders["jpeg"], noise("rgba", 64, 64, 3))
	pngData := encodeBytes(t, encoders["png"], noise("rgba", 64, 64, 4))
	solidImg, solidWant := solid("paletted", 40, 20)
	writeFile(t, "ok.gif", encodeBytes(t, encoders["gif"], solidImg))
	writeFile(t, "cat.txt", []byte("meow\n"))
	writeFile(t, "empty.png", nil)
	writeFile(t, "trunc.jpg", jpg[:len(jpg)/2])
	writeFile(t, "trunc.png", pngData[:len(pngData)/2])
	writeFile(t, "bomb.png", pngBomb(100000, 100000))
	if err := os.Mkdir("dir", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere.png", "dangling.png"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantMsg string
		wantErr error
	}{
		{name: "valid gif", path: "ok.gif"},
		{name: "not an image", path: "cat.txt", wantMsg: "cat.txt: image: unknown format", wantErr: image.ErrFormat},
		{name: "directory", path: "dir/", wantMsg: "open dir/: is a directory", wantErr: syscall.EISDIR},
		{name: "empty file", path: "empty.png", wantMsg: "empty.png: empty file", wantErr: ErrEmpty},
		{name: "truncated jpeg", path: "trunc.jpg", wantMsg: "trunc.jpg: unexpected EOF", wantErr: io.ErrUnexpectedEOF},
		{name: "truncated png", path: "trunc.png", wantMsg: "trunc.png: unexpected EOF", wantErr: io.ErrUnexpectedEOF},
		{name: "header bomb", path: "bomb.png", wantMsg: "bomb.png: image is 100000x100000 pixels, more than the 40000000 allowed"},
		{name: "missing", path: "missing.png", wantMsg: "open missing.png: no such file or directory", wantErr: fs.ErrNotExist},
		{name: "dangling symlink", path: "dangling.png", wantMsg: "open dangling.png: no such file or directory", wantErr: fs.ErrNotExist},
		{name: "dash is a file name", path: "-", wantMsg: "open -: no such file or directory", wantErr: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadFile(tt.path, 0)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("LoadFile: %v", err)
				}
				assertSolid(t, got, solidWant, 0)
				return
			}
			if err == nil {
				t.Fatalf("LoadFile succeeded, want error %q", tt.wantMsg)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error %q, want %q", err, tt.wantMsg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
		})
	}
}

// TestLoadFileUnreadable checks a mode-000 file. Root (as in CI containers)
// normally bypasses permission bits, so the expectation is derived from
// what the operating system does for a plain read: LoadFile must fail with
// a permission error naming the file exactly when that read fails, and
// otherwise decode the file correctly.
func TestLoadFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "locked.png")
	img, want := solid("gray", 8, 8)
	writeFile(t, path, encodeBytes(t, encoders["png"], img))
	if err := os.Chmod(path, 0); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	t.Cleanup(func() { _ = os.Chmod(path, 0o644) })

	_, readErr := os.ReadFile(path)
	got, err := LoadFile(path, 0)
	switch {
	case readErr != nil:
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
			t.Fatalf("LoadFile error %v, want permission error naming %s", err, path)
		}
	case os.Geteuid() != 0:
		t.Fatalf("non-root user could read a mode-000 file: %v", readErr)
	default:
		if err != nil {
			t.Fatalf("LoadFile as root: %v", err)
		}
		assertSolid(t, got, want, 0)
	}
}

func TestFromCIFAR(t *testing.T) {
	full := make([]byte, Size+5)
	for i := range full {
		full[i] = byte(i * 7)
	}
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "exact", in: full[:Size]},
		{name: "long", in: full},
		{name: "short", in: full[:100]},
		{name: "nil", in: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := FromCIFAR(tt.in)
			if m.Bounds() != image.Rect(0, 0, Width, Height) {
				t.Fatalf("bounds %v", m.Bounds())
			}
			at := func(i int) byte {
				if i < len(tt.in) && i < Size {
					return tt.in[i]
				}
				return 0
			}
			for i := 0; i < Plane; i++ {
				c := m.RGBAAt(i%Width, i/Width)
				if c != (color.RGBA{R: at(i), G: at(Plane + i), B: at(2*Plane + i), A: 255}) {
					t.Fatalf("pixel %d = %v", i, c)
				}
			}
		})
	}
}

func TestUpscale(t *testing.T) {
	src, want := solid("cmyk", 3, 5)
	tests := []struct {
		name string
		w, h int
		size image.Point
	}{
		{name: "up", w: 64, h: 48, size: image.Pt(64, 48)},
		{name: "down", w: 1, h: 2, size: image.Pt(1, 2)},
		{name: "zero", w: 0, h: 10, size: image.Pt(0, 10)},
		{name: "negative", w: -3, h: -1, size: image.Pt(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Upscale(src, tt.w, tt.h)
			if m.Bounds().Size() != tt.size {
				t.Fatalf("size %v, want %v", m.Bounds().Size(), tt.size)
			}
			for i := 0; i < len(m.Pix); i += 4 {
				if got := [3]byte{m.Pix[i], m.Pix[i+1], m.Pix[i+2]}; got != want || m.Pix[i+3] != 255 {
					t.Fatalf("pixel %d = %v alpha %d, want %v opaque", i/4, got, m.Pix[i+3], want)
				}
			}
		})
	}
}

func BenchmarkLoadPNG32(b *testing.B) {
	path := filepath.Join(b.TempDir(), "noise.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, noise("rgba", Width, Height, 5)); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadFile(path, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkToCIFAR640x480(b *testing.B) {
	img := noise("ycbcr", 640, 480, 6)
	b.ReportAllocs()
	for b.Loop() {
		ToCIFAR(img)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

func FuzzDecode(f *testing.F) {
	tiny, _ := solid("nrgba", 3, 2)
	for _, e := range []encoder{encoders["png"], encoders["jpeg"], encoders["gif"]} {
		var buf bytes.Buffer
		if err := e.enc(&buf, tiny); err != nil {
			f.Fatalf("encode %s: %v", e.name, err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(pngBomb(100000, 100000))
	f.Add(gifBomb(65535, 65535))
	f.Add(jpegBomb(65535, 65535))
	f.Add([]byte{})
	const maxPixels = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		img, err := Decode(bytes.NewReader(data), maxPixels)
		runtime.ReadMemStats(&after)
		// 1<<16 pixels is at most 512 KiB of 16-bit RGBA; decoders keep a
		// few such buffers, so anything near 32 MiB means the limit leaked.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
			t.Fatalf("Decode of %d bytes allocated %d bytes", len(data), alloc)
		}
		if err != nil {
			if img != nil {
				t.Fatalf("Decode returned an image and error %v", err)
			}
			return
		}
		if s := img.Bounds().Size(); s.X <= 0 || s.Y <= 0 || s.X*s.Y > maxPixels || max(s.X, s.Y) > MaxAspect*min(s.X, s.Y) {
			t.Fatalf("Decode accepted a %v image, limit %d pixels and %d:1", s, maxPixels, MaxAspect)
		}
		runtime.ReadMemStats(&before)
		out := ToCIFAR(img)
		runtime.ReadMemStats(&after)
		if len(out) != Size {
			t.Fatalf("ToCIFAR returned %d bytes", len(out))
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Fatalf("ToCIFAR of a %v image allocated %d bytes", img.Bounds().Size(), alloc)
		}
	})
}
