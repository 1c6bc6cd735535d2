package imaging

import (
	"fmt"
	"image"
	"image/color"

	// BMP and WebP, besides PNG, JPEG and GIF: the formats of image folder
	// data sets (those of Keras's image_dataset_from_directory, and WebP).
	_ "golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// Fit says how an image whose aspect ratio differs from the target size's
// is fitted into it.
type Fit string

// The fits, as named in the data.resize configuration key.
const (
	// Stretch scales each axis independently to the target size.
	Stretch Fit = "stretch"
	// Crop scales the image to cover the target and cuts out its centre
	// (like torchvision's Resize followed by CenterCrop, or Keras's
	// crop_to_aspect_ratio).
	Crop Fit = "crop"
	// Pad scales the image to fit inside the target, centred on black
	// (like Keras's pad_to_aspect_ratio).
	Pad Fit = "pad"
)

// ParseFit returns the Fit named s.
func ParseFit(s string) (Fit, error) {
	switch f := Fit(s); f {
	case Stretch, Crop, Pad:
		return f, nil
	}
	return "", fmt.Errorf("unknown resize mode %q: want stretch, crop or pad", s)
}

// Planar converts img to width x height pixels, fitted with fit and
// resampled as ToCIFAR and predict resample (Catmull-Rom, long sides
// box-averaged first so memory stays bounded),
// and returns it in planar CHW order with channels planes: 3 is R, G, B;
// 1 is the luma Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as Go's
// color.GrayModel and PIL's "L"), which leaves grey images unchanged.
// Transparent pixels are composed over black. An image of the target size
// is copied without resampling. width, height and channels must be
// positive; channels other than 1 and 3 are treated as 3.
func Planar(img image.Image, width, height, channels int, fit Fit) []byte {
	if channels != 1 {
		channels = 3
	}
	plane := width * height
	out := make([]byte, channels*plane)
	b := img.Bounds()
	if b.Dx() == width && b.Dy() == height && copyPlanar(out, img, channels) {
		return out
	}
	rgba := image.NewRGBA(image.Rect(0, 0, width, height))
	if !b.Empty() {
		sr, dr := fitRects(b, rgba.Bounds(), fit)
		if sr.Size() == dr.Size() {
			draw.Draw(rgba, dr, img, sr.Min, draw.Src)
		} else {
			resample(rgba.SubImage(dr).(*image.RGBA), subImage(img, sr)) // ToCIFAR's, in bounded memory
		}
	}
	for i := range plane {
		p := rgba.Pix[4*i : 4*i+3 : 4*i+3]
		if channels == 1 {
			out[i] = luma(p[0], p[1], p[2])
			continue
		}
		out[i], out[plane+i], out[2*plane+i] = p[0], p[1], p[2]
	}
	return out
}

// subImage returns the part r of img (img itself when r is its bounds).
func subImage(img image.Image, r image.Rectangle) image.Image {
	if r == img.Bounds() {
		return img
	}
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	return cropped{img, r}
}

// cropped is the part r of an image without a SubImage method.
type cropped struct {
	image.Image
	r image.Rectangle
}

func (c cropped) Bounds() image.Rectangle { return c.r }

// fitRects returns the source rectangle of src and the destination
// rectangle of dst (both of positive size) that fit maps onto each other.
func fitRects(src, dst image.Rectangle, fit Fit) (sr, dr image.Rectangle) {
	sw, sh, dw, dh := src.Dx(), src.Dy(), dst.Dx(), dst.Dy()
	sr, dr = src, dst
	switch fit {
	case Crop: // the largest centred part of src with dst's aspect ratio
		if sw*dh > sh*dw { // src is wider
			w := max(1, (sh*dw+dh/2)/dh)
			x := src.Min.X + (sw-w)/2
			sr = image.Rect(x, src.Min.Y, x+w, src.Max.Y)
		} else {
			h := max(1, (sw*dh+dw/2)/dw)
			y := src.Min.Y + (sh-h)/2
			sr = image.Rect(src.Min.X, y, src.Max.X, y+h)
		}
	case Pad: // the largest centred part of dst with src's aspect ratio
		if sw*dh > sh*dw {
			h := max(1, (dw*sh+sw/2)/sw)
			y := dst.Min.Y + (dh-h)/2
			dr = image.Rect(dst.Min.X, y, dst.Max.X, y+h)
		} else {
			w := max(1, (dh*sw+sh/2)/sh)
			x := dst.Min.X + (dw-w)/2
			dr = image.Rect(x, dst.Min.Y, x+w, dst.Max.Y)
		}
	}
	return sr, dr
}

// luma is Go's color.GrayModel of an opaque 8-bit colour: BT.601 weights
// summing to 1<<16 applied to the 16-bit values, rounded.
func luma(r, g, b byte) byte {
	r16, g16, b16 := uint32(r)*0x101, uint32(g)*0x101, uint32(b)*0x101
	return byte((19595*r16 + 38470*g16 + 7471*b16 + 1<<15) >> 24)
}

// copyPlanar writes img, of the output's size, into out without
// resampling for the common decoded types; false for other types.
func copyPlanar(out []byte, img image.Image, channels int) bool {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	set := func(i int, r, g, bl byte) {
		if channels == 1 {
			out[i] = luma(r, g, bl)
			return
		}
		out[i], out[plane+i], out[2*plane+i] = r, g, bl
	}
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			if channels == 1 {
				copy(out[y*w:], row)
				continue
			}
			for x, v := range row {
				set(y*w+x, v, v, v)
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := range w {
				set(y*w+x, row[4*x], row[4*x+1], row[4*x+2])
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := range w {
				p := row[4*x : 4*x+4 : 4*x+4]
				a := uint32(p[3])
				set(y*w+x, premul(p[0], a), premul(p[1], a), premul(p[2], a))
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				set(y*w+x, r, g, bl)
			}
		}
	case *image.Paletted:
		var pal [256][3]byte
		for k, c := range m.Palette {
			if k >= len(pal) {
				break
			}
			r, g, bl, _ := c.RGBA()
			pal[k] = [3]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8)}
		}
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			for x, k := range row {
				c := pal[k]
				set(y*w+x, c[0], c[1], c[2])
			}
		}
	default:
		return false
	}
	return true
}
