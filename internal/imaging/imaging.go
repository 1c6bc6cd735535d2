// Package imaging turns real image files (PNG, JPEG, GIF) into the 32x32
// RGB input that the CIFAR-10 models expect, and back.
//
// Decoding is guarded against decompression bombs: the image header is
// read first and images whose width*height exceeds a pixel budget, or whose
// sides differ by more than MaxAspect, are refused before any pixel buffer
// is allocated; the images being decoded at once share one pixel budget;
// and resizing works in memory bounded by the output size, whatever the
// input's shape.
//
// The CIFAR-10 layout used throughout is planar ("CHW"): 1024 red bytes,
// then 1024 green bytes, then 1024 blue bytes, each plane row-major.
package imaging

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	// Register the GIF decoder; PNG and JPEG register through their
	// imports above.
	_ "image/gif"
)

const (
	// Width is the width of a CIFAR-10 image in pixels.
	Width = 32
	// Height is the height of a CIFAR-10 image in pixels.
	Height = 32
	// Plane is the number of bytes in one colour plane (Width*Height).
	Plane = Width * Height
	// Size is the number of bytes of one CIFAR-10 image: three planes.
	Size = 3 * Plane
)

// MaxPixels is the default limit on width*height accepted before decoding.
//
// 40 million pixels admits photos up to about 7300x5460 (common 12-24 MP
// camera and phone pictures with room to spare) while bounding the decoded
// pixel buffer: at most 160 MB for 8-bit RGBA PNG, 320 MB for 16-bit PNG and
// about 60 MB for a 4:2:0 JPEG.
const MaxPixels = 40_000_000

// MaxAspect is the largest ratio of an image's long side to its short side
// that Decode accepts. 100:1 admits every photograph, panoramas included,
// and with MaxPixels bounds each side to 63,245 pixels.
const MaxAspect = 100

// ErrEmpty is returned by Decode when the input holds no bytes at all.
var ErrEmpty = errors.New("empty file")

// TooLargeError reports an image whose header claims more pixels than the
// limit passed to Decode, non-positive dimensions, or an aspect ratio beyond
// MaxAspect. It is returned before any pixel data is decoded.
type TooLargeError struct {
	// Width and Height are the dimensions claimed by the image header.
	Width, Height int
	// Max is the pixel limit.
	Max int
}

// Error implements error.
func (e *TooLargeError) Error() string {
	switch {
	case e.Width <= 0 || e.Height <= 0:
		return fmt.Sprintf("image is %dx%d pixels, dimensions must be positive", e.Width, e.Height)
	case e.Width > e.Max/e.Height:
		return fmt.Sprintf("image is %dx%d pixels, more than the %d allowed", e.Width, e.Height, e.Max)
	}
	return fmt.Sprintf("image is %dx%d pixels, an aspect ratio beyond the %d:1 allowed", e.Width, e.Height, MaxAspect)
}

// recordingReader remembers the first read error other than io.EOF and
// whether any byte was read. image.DecodeConfig turns read errors during
// format sniffing into image.ErrFormat; this lets Decode report the real
// cause instead.
type recordingReader struct {
	r   io.Reader
	err error
}

func (rr *recordingReader) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF && rr.err == nil {
		rr.err = err
	}
	return n, err
}

// Decode decodes a PNG, JPEG or GIF image from r.
//
// The header is decoded first (the bytes it consumes are buffered and
// replayed for the full decode) and the image is refused with a
// *TooLargeError if its width or height is not positive, width*height
// exceeds maxPixels or one side is more than MaxAspect times the other. A
// maxPixels <= 0 selects MaxPixels. Concurrent calls share a budget of
// MaxPixels pixels being decoded: a call waits until its image fits. An input without
// any bytes yields ErrEmpty; an unrecognised format yields image.ErrFormat;
// input that ends early yields an error matching io.ErrUnexpectedEOF.
// Errors are returned without a prefix so callers can name the source.
func Decode(r io.Reader, maxPixels int) (image.Image, error) {
	img, release, err := decode(r, maxPixels)
	if err != nil {
		return nil, err
	}
	release()
	return img, nil
}

// decode is Decode that keeps the image's share of the decoding budget
// until the caller calls release (when err is nil).
func decode(r io.Reader, maxPixels int) (img image.Image, release func(), err error) {
	if maxPixels <= 0 {
		maxPixels = MaxPixels
	}
	br := bufio.NewReader(r)
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			return nil, nil, ErrEmpty
		}
		return nil, nil, err
	}
	rec := &recordingReader{r: br}
	var head bytes.Buffer
	cfg, _, err := image.DecodeConfig(io.TeeReader(rec, &head))
	if err != nil {
		if rec.err != nil {
			return nil, nil, rec.err
		}
		return nil, nil, err
	}
	if err := checkSize(cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, nil, err
	}
	free := reserve(cfg.Width * cfg.Height)
	defer func() {
		if err != nil {
			free()
		}
	}()
	img, _, err = image.Decode(io.MultiReader(&head, rec))
	if err != nil {
		if rec.err != nil {
			return nil, nil, rec.err
		}
		if isTruncation(err) {
			return nil, nil, &truncatedError{cause: err}
		}
		return nil, nil, err
	}
	// Defence in depth: a decoder must never return more than its header
	// announced, but verify rather than trust.
	b := img.Bounds()
	if err := checkSize(b.Dx(), b.Dy(), maxPixels); err != nil {
		return nil, nil, err
	}
	return img, free, nil
}

// isTruncation reports whether a decoder error means the pixel data ended
// early. The standard decoders turn io.ErrUnexpectedEOF into these format
// errors once they are inside the compressed pixel data.
func isTruncation(err error) bool {
	return err == jpeg.FormatError("short Huffman data") ||
		err == png.FormatError("not enough pixel data")
}

// truncatedError reports an image whose data ended before all pixels were
// decoded. Its message is that of io.ErrUnexpectedEOF, and it matches both
// io.ErrUnexpectedEOF and the decoder's own error with errors.Is.
type truncatedError struct{ cause error }

func (e *truncatedError) Error() string { return io.ErrUnexpectedEOF.Error() }

func (e *truncatedError) Unwrap() []error { return []error{io.ErrUnexpectedEOF, e.cause} }

// checkSize refuses non-positive dimensions, w*h > maxPixels and aspect
// ratios beyond MaxAspect, without overflowing.
func checkSize(w, h, maxPixels int) error {
	// Once w*h <= maxPixels, MaxAspect*min(w, h) cannot overflow.
	if w <= 0 || h <= 0 || w > maxPixels/h || max(w, h) > MaxAspect*min(w, h) {
		return &TooLargeError{Width: w, Height: h, Max: maxPixels}
	}
	return nil
}

// ToCIFAR converts img to the 3072-byte CIFAR-10 planar layout (1024 R,
// 1024 G, 1024 B, each row-major), resizing it to 32x32.
//
// Any colour model is accepted (gray, gray16, RGBA, NRGBA, RGBA64,
// paletted, YCbCr, CMYK, ...). Translucent pixels are composited over
// black, which is what Go's alpha-premultiplied colour model and draw
// package do: a pixel with alpha a and straight colour c contributes
// c*a/max. 16-bit samples keep their high byte.
//
// A 32x32 image is converted pixel by pixel without resampling, so a 32x32
// opaque RGB image passes through bit-exact. Other sizes are resampled with
// golang.org/x/image/draw.CatmullRom, whose kernel widens when shrinking so
// that downscaling is properly low-pass filtered; a side longer than 1024
// pixels is box-averaged to 512 first, so that memory stays small (a few
// MB) whatever the image's shape, 1x40,000,000 included.
func ToCIFAR(img image.Image) []byte {
	out := make([]byte, Size)
	b := img.Bounds()
	if b.Dx() == Width && b.Dy() == Height {
		copyExact(out, img)
		return out
	}
	dst := image.NewRGBA(image.Rect(0, 0, Width, Height))
	resample(dst, img)
	fromRGBA(out, dst)
	return out
}

// copyExact fills out from a 32x32 image without resampling, with fast
// paths for the pixel types the standard decoders produce.
func copyExact(out []byte, img image.Image) {
	b := img.Bounds()
	switch m := img.(type) {
	case *image.RGBA:
		fromRGBA(out, m)
	case *image.NRGBA:
		for y := 0; y < Height; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < Width; x++ {
				p := row[4*x : 4*x+4 : 4*x+4]
				i := y*Width + x
				if a := uint32(p[3]); a == 0xff {
					out[i], out[Plane+i], out[2*Plane+i] = p[0], p[1], p[2]
				} else {
					out[i] = premul(p[0], a)
					out[Plane+i] = premul(p[1], a)
					out[2*Plane+i] = premul(p[2], a)
				}
			}
		}
	case *image.Gray:
		for y := 0; y < Height; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < Width; x++ {
				i := y*Width + x
				v := row[x]
				out[i], out[Plane+i], out[2*Plane+i] = v, v, v
			}
		}
	case *image.YCbCr:
		for y := 0; y < Height; y++ {
			for x := 0; x < Width; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := y*Width + x
				out[i], out[Plane+i], out[2*Plane+i] = r, g, bl
			}
		}
	case *image.Paletted:
		// Convert the palette once instead of every pixel.
		var pal [256][3]byte
		for k, c := range m.Palette {
			if k >= len(pal) {
				break
			}
			r, g, bl, _ := c.RGBA()
			pal[k] = [3]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8)}
		}
		for y := 0; y < Height; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < Width; x++ {
				// Out-of-range indices read as black, the zero entry.
				c := pal[row[x]]
				i := y*Width + x
				out[i], out[Plane+i], out[2*Plane+i] = c[0], c[1], c[2]
			}
		}
	default:
		for y := 0; y < Height; y++ {
			for x := 0; x < Width; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				i := y*Width + x
				out[i], out[Plane+i], out[2*Plane+i] = byte(r>>8), byte(g>>8), byte(bl>>8)
			}
		}
	}
}

// premul returns the 8-bit colour v with straight alpha a composited over
// black, rounding exactly as color.NRGBA.RGBA followed by >>8 does.
func premul(v byte, a uint32) byte {
	c := uint32(v) | uint32(v)<<8
	return byte(c * a / 0xff >> 8)
}

// fromRGBA writes the colour channels of a 32x32 *image.RGBA (alpha
// premultiplied, i.e. already composited over black) in planar order.
func fromRGBA(out []byte, m *image.RGBA) {
	b := m.Bounds()
	for y := 0; y < Height; y++ {
		row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < Width; x++ {
			p := row[4*x : 4*x+3 : 4*x+3]
			i := y*Width + x
			out[i], out[Plane+i], out[2*Plane+i] = p[0], p[1], p[2]
		}
	}
}

// LoadFile opens path, decodes it with Decode and converts it with ToCIFAR,
// holding the image's share of the decoding budget until it is converted.
// Only regular files are read: a FIFO or a device is refused without
// blocking. Errors are a single line naming the file, for example
// "cat.txt: image: unknown format", "open dir/: is a directory" or
// "open pipe.png: not a regular file"; the cause is wrapped. The name "-"
// is not special.
func LoadFile(path string, maxPixels int) ([]byte, error) {
	return LoadFileAs(path, maxPixels, CIFAR)
}

// FromCIFAR converts a CIFAR-10 planar image (1024 R, 1024 G, 1024 B) to
// an opaque 32x32 RGBA image. Samples missing from a short chw are zero;
// bytes beyond Size are ignored.
func FromCIFAR(chw []byte) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, Width, Height))
	var buf [Size]byte
	copy(buf[:], chw)
	for i := 0; i < Plane; i++ {
		m.Pix[4*i] = buf[i]
		m.Pix[4*i+1] = buf[Plane+i]
		m.Pix[4*i+2] = buf[2*Plane+i]
		m.Pix[4*i+3] = 0xff
	}
	return m
}

// Upscale resizes img to w x h with the Catmull-Rom resampler (despite the
// name it shrinks as well, in bounded memory like ToCIFAR). Non-positive w
// or h give an empty image.
func Upscale(img image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, max(w, 0), max(h, 0)))
	resample(dst, img)
	return dst
}
