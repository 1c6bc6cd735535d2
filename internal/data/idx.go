package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MNIST and Fashion-MNIST: four IDX files, gzip-compressed or not. An IDX
// file is a big-endian magic (two zero bytes, the element type 0x08 for
// unsigned bytes, the number of dimensions), one big-endian uint32 per
// dimension, then the elements in row-major order. Images are 3-dimensional
// (count, rows, columns) and grey; labels 1-dimensional.
const (
	idxTrainImages = "train-images-idx3-ubyte"
	idxTrainLabels = "train-labels-idx1-ubyte"
	idxTestImages  = "t10k-images-idx3-ubyte"
	idxTestLabels  = "t10k-labels-idx1-ubyte"
)

// IDXFiles returns the names of the four IDX files of MNIST and
// Fashion-MNIST, without the .gz that the official downloads add.
func IDXFiles() []string {
	return []string{idxTrainImages, idxTrainLabels, idxTestImages, idxTestLabels}
}

// MNISTClasses returns MNIST's class names: the digits.
func MNISTClasses() []string {
	return []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
}

// FashionMNISTClasses returns Fashion-MNIST's class names in label order.
func FashionMNISTClasses() []string {
	return []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
}

// idxLayout returns the layout of kind (mnist or fashion-mnist).
func idxLayout(kind string) layout {
	l := layout{name: "MNIST", kind: kind, subdirs: []string{"raw"}}
	if kind == KindFashionMNIST {
		l.name = "Fashion-MNIST"
	}
	for _, f := range IDXFiles() {
		l.files = append(l.files, f, f+".gz")
	}
	return l
}

// maxIDX bounds the elements of one IDX file (1 GiB).
const maxIDX = 1 << 30

// idx is MNIST or Fashion-MNIST in a directory.
type idx struct {
	kind    string
	set     fileSet
	classes []string
	g       Geometry
}

// openIDX finds kind's files at src and reads the training images' header
// for the geometry.
func openIDX(kind, src string) (*idx, error) {
	l := idxLayout(kind)
	set, err := openFiles(src, l, l.files)
	if err != nil {
		return nil, err
	}
	return idxFrom(kind, set)
}

// idxFrom reads the training images' header of set.
func idxFrom(kind string, set fileSet) (*idx, error) {
	d := &idx{kind: kind, set: set, classes: MNISTClasses()}
	if kind == KindFashionMNIST {
		d.classes = FashionMNISTClasses()
	}
	name, err := d.file(idxTrainImages)
	if err != nil {
		return nil, err
	}
	raw, err := set.read(name, nil)
	if err != nil {
		return nil, err
	}
	r, err := idxReader(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", set.where(), name, err)
	}
	dims, err := idxHeader(r, 3)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", set.where(), name, err)
	}
	d.g = Geometry{Height: dims[1], Width: dims[2], Channels: 1}
	if err := d.g.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", set.where(), name, err)
	}
	return d, nil
}

func (d *idx) Kind() string       { return d.kind }
func (d *idx) Location() string   { return d.set.where() }
func (d *idx) Classes() []string  { return append([]string(nil), d.classes...) }
func (d *idx) Geometry() Geometry { return d.g }
func (d *idx) fileSet() fileSet   { return d.set }

// files returns the names of the files present.
func (d *idx) files() []string {
	var out []string
	for _, f := range IDXFiles() {
		if name, err := d.file(f); err == nil {
			out = append(out, name)
		}
	}
	return out
}

// file returns the name under which base is present: base itself or
// base.gz.
func (d *idx) file(base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		if d.set.has(name) {
			return name, nil
		}
	}
	return "", &missingFileError{where: d.set.where(), name: base + "[.gz]"}
}

// Split reads the images and labels of the training or the test split.
// Their counts must agree, every label must be 0..9, and the files must
// hold exactly what their headers say.
func (d *idx) Split(ctx context.Context, name string) (*Dataset, error) {
	images, labels := idxTrainImages, idxTrainLabels
	switch name {
	case SplitTrain:
	case SplitTest:
		images, labels = idxTestImages, idxTestLabels
	default:
		return nil, fmt.Errorf("%s has no %q split", d.kind, name)
	}
	images, idims, pix, err := d.read(images, 3)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	labels, ldims, lab, err := d.read(labels, 1)
	if err != nil {
		return nil, err
	}
	if idims[1] != d.g.Height || idims[2] != d.g.Width {
		return nil, fmt.Errorf("%s: %s: images are %dx%d, the training images %dx%d", d.set.where(), images, idims[1], idims[2], d.g.Height, d.g.Width)
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("%s: %s has %d images but %s %d labels", d.set.where(), images, idims[0], labels, ldims[0])
	}
	for i, l := range lab {
		if int(l) >= len(d.classes) {
			return nil, fmt.Errorf("%s: %s: label %d of image %d out of range 0..%d", d.set.where(), labels, l, i, len(d.classes)-1)
		}
	}
	return &Dataset{Geometry: d.g, Images: pix, Labels: lab, Classes: d.Classes()}, nil
}

// read returns the name, dimensions and elements of the IDX file base (or
// base.gz), which must have dims dimensions.
func (d *idx) read(base string, dims int) (string, []int, []byte, error) {
	name, err := d.file(base)
	if err != nil {
		return "", nil, nil, err
	}
	raw, err := d.set.read(name, nil)
	if err != nil {
		return "", nil, nil, err
	}
	shape, data, err := parseIDX(raw, dims)
	if err != nil {
		return "", nil, nil, fmt.Errorf("%s: %s: %w", d.set.where(), name, err)
	}
	return name, shape, data, nil
}

// idxReader returns a reader of the IDX content of raw, decompressing it
// when it starts with gzip's magic.
func idxReader(raw []byte) (io.Reader, error) {
	if bytes.HasPrefix(raw, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, nil
	}
	return bytes.NewReader(raw), nil
}

// idxHeader reads an IDX header of unsigned bytes with want dimensions and
// returns the dimensions, each at least 1 and their product at most maxIDX.
func idxHeader(r io.Reader, want int) ([]int, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("read IDX header: %w", eofIsShort(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("not an IDX file (magic % x)", magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("IDX element type 0x%02x, want 0x08 (unsigned bytes)", magic[2])
	}
	if int(magic[3]) != want {
		return nil, fmt.Errorf("IDX file of %d dimensions, want %d", magic[3], want)
	}
	dims := make([]int, want)
	total := 1
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("read IDX header: %w", eofIsShort(err))
		}
		n := binary.BigEndian.Uint32(b[:])
		if n == 0 || uint64(n)*uint64(total) > maxIDX {
			return nil, fmt.Errorf("IDX dimensions %v: each must be positive and their product at most %d", append(dims[:i:i], int(n)), maxIDX)
		}
		dims[i] = int(n)
		total *= int(n)
	}
	return dims, nil
}

// parseIDX parses raw (an IDX file, gzip-compressed or not) of want
// dimensions. The elements must be exactly what the header announces:
// a truncated file or trailing bytes are errors.
func parseIDX(raw []byte, want int) ([]int, []byte, error) {
	r, err := idxReader(raw)
	if err != nil {
		return nil, nil, err
	}
	dims, err := idxHeader(r, want)
	if err != nil {
		return nil, nil, err
	}
	total := 1
	for _, n := range dims {
		total *= n
	}
	var data []byte
	if br, ok := r.(*bytes.Reader); ok {
		if br.Len() != total {
			return nil, nil, fmt.Errorf("header announces %d bytes of %v elements, the file holds %d", total, dims, br.Len())
		}
		data = bytes.Clone(raw[len(raw)-total:])
	} else {
		// A compressed file's header is not trusted with an allocation:
		// the buffer grows with the data actually decompressed.
		data, err = io.ReadAll(io.LimitReader(r, int64(total)+1))
		if err != nil {
			return nil, nil, fmt.Errorf("decompress: %w", eofIsShort(err))
		}
		if len(data) != total {
			return nil, nil, fmt.Errorf("header announces %d bytes of %v elements, the file holds %s", total, dims, moreOrFewer(len(data), total))
		}
	}
	return dims, data, nil
}

func moreOrFewer(got, want int) string {
	if got > want {
		return "more than that"
	}
	return fmt.Sprintf("only %d", got)
}

// eofIsShort turns a bare EOF into "unexpected EOF": a file that ends in
// its header is truncated.
func eofIsShort(err error) error {
	if errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "unexpected") {
		return io.ErrUnexpectedEOF
	}
	return err
}
