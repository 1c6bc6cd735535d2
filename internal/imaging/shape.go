package imaging

import (
	"fmt"
	"image"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// Shape is the input of a model as images must be given to it: Width x
// Height pixels in Channels planes (1: grey, 3: RGB), images of another
// size fitted as Fit says. The data set loaders and predict convert with
// the same Shape, so a model sees the same pixels in both.
type Shape struct {
	Width, Height, Channels int
	Fit                     Fit // empty: Stretch
}

// CIFAR is the shape of CIFAR-10 models: 32x32 RGB, stretched.
var CIFAR = Shape{Width: Width, Height: Height, Channels: 3, Fit: Stretch}

// Size returns the number of bytes of one converted image.
func (s Shape) Size() int { return s.Width * s.Height * s.Channels }

// String renders the shape as HxWxC, e.g. "28x28x1", the data package's
// notation for geometries.
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.Height, s.Width, s.Channels) }

// Convert returns img converted to s in planar CHW order (see Planar):
// resized with the Catmull-Rom resampler, fitted with s.Fit, grey and RGB
// converted to s.Channels.
func (s Shape) Convert(img image.Image) []byte {
	fit := s.Fit
	if fit == "" {
		fit = Stretch
	}
	if s.Width == Width && s.Height == Height && s.Channels == 3 && fit == Stretch {
		return ToCIFAR(img) // the same bytes as Planar, with fast paths for exact 32x32 images
	}
	return Planar(img, s.Width, s.Height, s.Channels, fit)
}

// LoadFileAs opens path, decodes it with Decode and converts it to s,
// holding the image's share of the decoding budget until it is converted.
// Only regular files are read, and errors are those of LoadFile: one line
// naming the file, the cause wrapped.
func LoadFileAs(path string, maxPixels int, s Shape) ([]byte, error) {
	f, err := regularfile.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: "open <path>: <cause>"
	}
	defer f.Close()
	img, release, err := decode(f, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer release()
	return s.Convert(img), nil
}
