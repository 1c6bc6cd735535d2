// Package data holds labelled image data sets in memory, reads them from
// their sources (CIFAR-10 today), splits and normalizes them for training,
// augments and batches them, and implements the logic behind the "lepton
// data" commands (fetch and info).
//
// An image is stored as bytes in planar CHW order: its Geometry.Channels
// planes one after the other (red, green, blue for colour images; one plane
// for grey ones), each plane Height rows of Width bytes. CIFAR-10's .bin
// files use exactly this layout.
package data

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// MaxClasses is the largest number of classes a data set may have: labels
// are bytes.
const MaxClasses = 256

// maxImageSize bounds Geometry.Size (16 MiB per image) so that sizes and
// offsets computed from a geometry never overflow.
const maxImageSize = 1 << 24

// Geometry is the shape of every image of a data set.
type Geometry struct {
	// Height and Width are the image's size in pixels.
	Height int `json:"height"`
	Width  int `json:"width"`
	// Channels is the number of planes: 1 (grey) or 3 (RGB).
	Channels int `json:"channels"`
}

// CIFARGeometry is the geometry of CIFAR-10 and CIFAR-100 images: 32x32 RGB.
var CIFARGeometry = Geometry{Height: 32, Width: 32, Channels: 3}

// Plane returns the number of bytes of one channel plane: Height*Width.
func (g Geometry) Plane() int { return g.Height * g.Width }

// Size returns the number of bytes of one image: Channels*Height*Width.
func (g Geometry) Size() int { return g.Channels * g.Height * g.Width }

// String renders the geometry as HxWxC, e.g. "32x32x3".
func (g Geometry) String() string {
	return fmt.Sprintf("%dx%dx%d", g.Height, g.Width, g.Channels)
}

// Validate reports a geometry with a non-positive side or channel count, or
// whose images would exceed 16 MiB.
func (g Geometry) Validate() error {
	if g.Height < 1 || g.Width < 1 || g.Channels < 1 {
		return fmt.Errorf("image geometry %s: height, width and channels must be positive", g)
	}
	if g.Height > maxImageSize || g.Width > maxImageSize/g.Height || g.Channels > maxImageSize/(g.Height*g.Width) {
		return fmt.Errorf("image geometry %s: more than %d bytes per image", g, maxImageSize)
	}
	return nil
}

// ErrNoData is wrapped by the loaders when the data location does not exist
// or holds no data set files. Its message tells the user how to get the data.
var ErrNoData = errors.New(`no data: run "lepton data fetch" (or set LEPTON_DATA_DIR / --data)`)

// noDataError names the data set and the location that lacks it and
// unwraps to ErrNoData (and to the underlying cause, if any).
type noDataError struct {
	name, kind, loc string
	cause           error
}

func (e *noDataError) Error() string {
	if e.kind == KindFolder {
		return fmt.Sprintf("no image folder at %s: give data.dir or --data a directory of class folders (DIR/<class>/<images>)", e.loc)
	}
	fetch := "lepton data fetch"
	if e.kind != KindCIFAR10 {
		fetch += " " + e.kind
	}
	return fmt.Sprintf(`no %s data in %s: run "%s" (or set %s / --data)`, e.name, e.loc, fetch, EnvDataDir)
}

func (e *noDataError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrNoData}
	}
	return []error{ErrNoData, e.cause}
}

// Dataset is a set of labelled images of one geometry.
type Dataset struct {
	// Geometry is the shape of every image.
	Geometry Geometry
	// Images holds N*Geometry.Size() bytes, image after image, each in
	// planar CHW order.
	Images []byte
	// Labels holds the N labels, indexes into Classes.
	Labels []uint8
	// Classes holds the class names; the index is the label.
	Classes []string
}

// Len returns the number of images.
func (d *Dataset) Len() int {
	return len(d.Labels)
}

// Image returns a view (not a copy) of the Geometry.Size() bytes of image i.
func (d *Dataset) Image(i int) []byte {
	n := d.Geometry.Size()
	return d.Images[i*n : (i+1)*n : (i+1)*n]
}

// Subset returns a new dataset holding copies of the images idx, in that
// order. Indices may repeat.
func (d *Dataset) Subset(idx []int) *Dataset {
	n := d.Geometry.Size()
	s := &Dataset{
		Geometry: d.Geometry,
		Images:   make([]byte, len(idx)*n),
		Labels:   make([]uint8, len(idx)),
		Classes:  slices.Clone(d.Classes),
	}
	for j, i := range idx {
		copy(s.Images[j*n:(j+1)*n], d.Image(i))
		s.Labels[j] = d.Labels[i]
	}
	return s
}

// check reports a dataset whose geometry, image bytes, labels and classes
// disagree.
func (d *Dataset) check() error {
	if err := d.Geometry.Validate(); err != nil {
		return err
	}
	if len(d.Images) != len(d.Labels)*d.Geometry.Size() {
		return fmt.Errorf("%d image bytes for %d labels of %s images", len(d.Images), len(d.Labels), d.Geometry)
	}
	if len(d.Classes) > MaxClasses {
		return fmt.Errorf("%d classes, at most %d are supported", len(d.Classes), MaxClasses)
	}
	for i, l := range d.Labels {
		if len(d.Classes) > 0 && int(l) >= len(d.Classes) {
			return fmt.Errorf("image %d: label %d out of range 0..%d", i, l, len(d.Classes)-1)
		}
	}
	return nil
}

// ErrInvalid is matched (with errors.Is) by every data error other than
// ErrNoData: the data exists but cannot be used (a missing or truncated
// batch file, a bad label, an unreadable archive).
var ErrInvalid = errors.New("invalid data")

// invalidError marks a data error as ErrInvalid while keeping its message.
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }

func (e invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

// Invalid marks err as ErrInvalid (keeping its message) unless it is nil
// or ErrNoData: for other packages' errors about unusable image data.
func Invalid(err error) error { return invalid(err) }

// invalid marks err as ErrInvalid unless it is nil, ErrNoData, already
// ErrInvalid, or a cancellation (Ctrl-C is not a data problem).
func invalid(err error) error {
	if err == nil || errors.Is(err, ErrNoData) || errors.Is(err, ErrInvalid) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return invalidError{err}
}
