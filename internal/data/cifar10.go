package data

import (
	"fmt"
	"slices"
	"strings"
)

// CIFAR-10's binary version: five training batch files and one test batch
// file of records (one label byte, then a 32x32 RGB image in planar order),
// and the class names in batches.meta.txt.
const (
	// RecordSize is the size of one record in a .bin file: a label byte
	// followed by the image.
	RecordSize = 1 + 32*32*3
	// cifar10Classes is the number of CIFAR-10 classes.
	cifar10Classes = 10
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

// ReadBatch parses the content of one .bin file. name is used in error
// messages only. The returned dataset has no class names. It fails if the
// size is not a multiple of RecordSize or a label is outside 0..9.
func ReadBatch(name string, raw []byte) (*Dataset, error) {
	if len(raw)%RecordSize != 0 {
		return nil, sizeError(name, int64(len(raw)))
	}
	n := len(raw) / RecordSize
	g := CIFARGeometry
	d := &Dataset{Geometry: g, Images: make([]byte, n*g.Size()), Labels: make([]uint8, n)}
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
	const size = RecordSize - 1
	n := len(raw) / RecordSize
	if len(labels) != n || (images != nil && len(images) != n*size) {
		return fmt.Errorf("%s: decode %d records: destination has room for %d labels and %d image bytes", name, n, len(labels), len(images))
	}
	for r := range n {
		rec := raw[r*RecordSize : (r+1)*RecordSize]
		if rec[0] >= cifar10Classes {
			return fmt.Errorf("%s: record %d: label %d out of range 0..%d", name, r, rec[0], cifar10Classes-1)
		}
		labels[r] = rec[0]
		if images != nil {
			copy(images[r*size:(r+1)*size], rec[1:])
		}
	}
	return nil
}

// parseMeta returns the class names of a batches.meta.txt file: exactly
// want non-empty lines (surrounding white space and blank lines are
// ignored).
func parseMeta(name string, raw []byte, want int) ([]string, error) {
	var names []string
	for line := range strings.Lines(string(raw)) {
		if s := strings.TrimSpace(line); s != "" {
			names = append(names, s)
		}
	}
	if len(names) != want {
		return nil, fmt.Errorf("%s: want %d non-empty class names, got %d", name, want, len(names))
	}
	return names, nil
}

// readMeta reads and parses the class names of set.
func readMeta(set fileSet) ([]string, error) {
	raw, err := set.read(MetaFile, nil)
	if err != nil {
		return nil, err
	}
	names, err := parseMeta(MetaFile, raw, cifar10Classes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", set.where(), err)
	}
	return names, nil
}

// LoadTrain loads the 50,000 training images (data_batch_1..5.bin) and the
// class names from src: a directory holding the files, a directory holding
// the official cifar-10-batches-bin sub-directory, or the official
// cifar-10-binary.tar.gz. Errors wrap ErrNoData when src does not exist or
// holds no CIFAR-10 files, and ErrInvalid otherwise.
func LoadTrain(src string) (*Dataset, error) {
	d, err := load(src, TrainFiles())
	return d, invalid(err)
}

// LoadTest loads the 10,000 test images (test_batch.bin) and the class names
// from src; see LoadTrain for the accepted locations.
func LoadTest(src string) (*Dataset, error) {
	d, err := load(src, []string{TestFile})
	return d, invalid(err)
}

// load reads the named batch files of src, in order, into one dataset. It
// checks all files exist and have valid sizes before reading any of them,
// then reads each with one read call into a reused buffer.
func load(src string, names []string) (*Dataset, error) {
	set, err := openSource(src, append(slices.Clone(names), MetaFile))
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, len(names))
	total := 0
	for i, name := range names {
		sz, err := set.size(name)
		if err != nil {
			return nil, err
		}
		if sz%RecordSize != 0 {
			return nil, fmt.Errorf("%s: %w", set.where(), sizeError(name, sz))
		}
		sizes[i] = sz
		total += int(sz / RecordSize)
	}
	classes, err := readMeta(set)
	if err != nil {
		return nil, err
	}
	g := CIFARGeometry
	size := g.Size()
	d := &Dataset{
		Geometry: g,
		Images:   make([]byte, total*size),
		Labels:   make([]uint8, total),
		Classes:  classes,
	}
	var buf []byte
	off := 0
	for i, name := range names {
		raw, err := set.read(name, buf)
		if err != nil {
			return nil, err
		}
		if int64(len(raw)) != sizes[i] {
			return nil, fmt.Errorf("%s: %s: size changed from %d to %d while loading", set.where(), name, sizes[i], len(raw))
		}
		if _, ok := set.(dirSet); ok {
			buf = raw
		}
		n := len(raw) / RecordSize
		if err := decodeBatch(name, raw, d.Images[off*size:(off+n)*size], d.Labels[off:off+n]); err != nil {
			return nil, fmt.Errorf("%s: %w", set.where(), err)
		}
		off += n
	}
	return d, nil
}
