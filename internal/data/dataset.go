// Package data loads the CIFAR-10 binary dataset, splits and normalizes it
// for training, and implements the logic behind the "lepton data" commands
// (fetch and info).
//
// Images are kept exactly as stored in the official .bin files: 3072 bytes
// per image, the 32x32 red plane first, then green, then blue, each plane in
// row-major order (planar CHW).
package data

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

const (
	// Side is the width and height of a CIFAR-10 image in pixels.
	Side = 32
	// Channels is the number of colour planes (R, G, B) per image.
	Channels = 3
	// ImageSize is the number of bytes of one image: Channels*Side*Side.
	ImageSize = Channels * Side * Side
	// NumClasses is the number of CIFAR-10 classes; labels are 0..NumClasses-1.
	NumClasses = 10
	// RecordSize is the size of one record in a .bin file: a label byte
	// followed by the image.
	RecordSize = 1 + ImageSize

	planeSize = Side * Side
)

// File names of the CIFAR-10 binary version.
const (
	// MetaFile holds the class names, one a line, for labels 0..9.
	MetaFile = "batches.meta.txt"
	// TestFile holds the 10,000 test images.
	TestFile = "test_batch.bin"
	// ArchiveDir is the directory inside the official tarball (and the
	// sub-directory that a data directory may contain) holding the files.
	ArchiveDir = "cifar-10-batches-bin"
)

// TrainFiles returns the names of the five training batch files in order.
func TrainFiles() []string {
	return []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
}

// AllFiles returns the names of the seven files that make up the dataset:
// the training batches, the test batch and the class names.
func AllFiles() []string {
	return append(TrainFiles(), TestFile, MetaFile)
}

// DefaultClasses returns the CIFAR-10 class names in label order.
func DefaultClasses() []string {
	return []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
}

// ErrNoData is wrapped by the loaders when the data location does not exist
// or holds no CIFAR-10 files. Its message tells the user how to get the data.
var ErrNoData = errors.New(`no CIFAR-10 data: run "lepton data fetch" (or set LEPTON_DATA_DIR / --data)`)

// noDataError names the location that lacks the data and unwraps to
// ErrNoData (and to the underlying cause, if any).
type noDataError struct {
	loc   string
	cause error
}

func (e *noDataError) Error() string {
	return fmt.Sprintf(`no CIFAR-10 data in %s: run "lepton data fetch" (or set LEPTON_DATA_DIR / --data)`, e.loc)
}

func (e *noDataError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrNoData}
	}
	return []error{ErrNoData, e.cause}
}

// Dataset is a set of 32x32 RGB images in CIFAR-10's planar layout.
type Dataset struct {
	// Images holds N*3072 bytes: per image 1024 R, 1024 G, 1024 B
	// (row-major), exactly as in the .bin files.
	Images []byte
	// Labels holds the N labels, 0..9.
	Labels []uint8
	// Classes holds the class names; the index is the label.
	Classes []string
}

// Len returns the number of images.
func (d *Dataset) Len() int {
	return len(d.Labels)
}

// Image returns a view (not a copy) of the 3072 bytes of image i.
func (d *Dataset) Image(i int) []byte {
	return d.Images[i*ImageSize : (i+1)*ImageSize : (i+1)*ImageSize]
}

// Subset returns a new dataset holding copies of the images idx, in that
// order. Indices may repeat.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{
		Images:  make([]byte, len(idx)*ImageSize),
		Labels:  make([]uint8, len(idx)),
		Classes: slices.Clone(d.Classes),
	}
	for j, i := range idx {
		copy(s.Images[j*ImageSize:(j+1)*ImageSize], d.Image(i))
		s.Labels[j] = d.Labels[i]
	}
	return s
}

// ReadBatch parses the content of one .bin file. name is used in error
// messages only. The returned dataset has no class names. It fails if the
// size is not a multiple of RecordSize or a label is outside 0..9.
func ReadBatch(name string, raw []byte) (*Dataset, error) {
	if len(raw)%RecordSize != 0 {
		return nil, sizeError(name, int64(len(raw)))
	}
	n := len(raw) / RecordSize
	d := &Dataset{Images: make([]byte, n*ImageSize), Labels: make([]uint8, n)}
	if err := decodeBatch(name, raw, d.Images, d.Labels); err != nil {
		return nil, err
	}
	return d, nil
}

func sizeError(name string, size int64) error {
	return fmt.Errorf("%s: size %d is not a multiple of %d", name, size, RecordSize)
}

// decodeBatch splits the records of raw into labels and images. labels must
// hold exactly len(raw)/RecordSize entries; images may be nil (labels only)
// or hold room for as many images.
func decodeBatch(name string, raw, images []byte, labels []uint8) error {
	if len(raw)%RecordSize != 0 {
		return sizeError(name, int64(len(raw)))
	}
	n := len(raw) / RecordSize
	if len(labels) != n || (images != nil && len(images) != n*ImageSize) {
		return fmt.Errorf("%s: decode %d records: destination has room for %d labels and %d image bytes", name, n, len(labels), len(images))
	}
	for r := range n {
		rec := raw[r*RecordSize : (r+1)*RecordSize]
		if rec[0] >= NumClasses {
			return fmt.Errorf("%s: record %d: label %d out of range 0..%d", name, r, rec[0], NumClasses-1)
		}
		labels[r] = rec[0]
		if images != nil {
			copy(images[r*ImageSize:(r+1)*ImageSize], rec[1:])
		}
	}
	return nil
}

// parseMeta returns the class names of a batches.meta.txt file: exactly
// NumClasses non-empty lines (surrounding white space and blank lines are
// ignored).
func parseMeta(name string, raw []byte) ([]string, error) {
	var names []string
	for line := range strings.Lines(string(raw)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != NumClasses {
		return nil, fmt.Errorf("%s: want %d non-empty class names, got %d", name, NumClasses, len(names))
	}
	return names, nil
}

// ErrInvalid is matched (with errors.Is) by every error of LoadTrain and
// LoadTest other than ErrNoData: the data exists but cannot be used (a
// missing or truncated batch file, a bad label, an unreadable archive).
var ErrInvalid = errors.New("invalid CIFAR-10 data")

// invalidError marks a data error as ErrInvalid while keeping its message.
type invalidError struct{ err error }

func (e invalidError) Error() string { return e.err.Error() }

func (e invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

// Invalid marks err as ErrInvalid (keeping its message) unless it is nil
// or ErrNoData: for other packages' errors about unusable image data.
func Invalid(err error) error { return invalid(err) }

// invalid marks err as ErrInvalid unless it is nil or ErrNoData.
func invalid(err error) error {
	if err == nil || errors.Is(err, ErrNoData) {
		return err
	}
	return invalidError{err}
}
