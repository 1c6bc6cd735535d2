package data

import (
	"context"
	"encoding/json"
	"fmt"
)

// RecordsFile names the optional file of a data directory in a CIFAR
// binary layout that gives the record count of each of its .bin files, as
// a JSON object ({"data_batch_1.bin": 40, ...}), for a subset or a
// synthetic set. Without it every file must hold the official count, so
// that a truncated file is refused instead of silently training on less.
const RecordsFile = "lepton-records.json"

// readRecords reads set's RecordsFile; nil when there is none.
func readRecords(set fileSet) (map[string]int, error) {
	if !set.has(RecordsFile) {
		return nil, nil
	}
	raw, err := set.read(RecordsFile, nil)
	if err != nil {
		return nil, err
	}
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", set.where(), RecordsFile, err)
	}
	for name, n := range m {
		if n < 0 {
			return nil, fmt.Errorf("%s: %s: %s has %d records", set.where(), RecordsFile, name, n)
		}
	}
	return m, nil
}

// binFormat is the record format of a CIFAR binary file: label bytes, then
// a 32x32 RGB image in planar order.
type binFormat struct {
	labelBytes int // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, then fine)
	label      int // the label byte used
	classes    int // labels must be below this
}

func (f binFormat) recordSize() int { return f.labelBytes + CIFARGeometry.Size() }

func (f binFormat) sizeError(name string, size int64) error {
	return fmt.Errorf("%s: size %d is not a multiple of %d", name, size, f.recordSize())
}

// decode splits the records of raw into labels and images. labels must
// hold exactly len(raw)/recordSize entries; images may be nil (labels
// only) or hold room for as many images.
func (f binFormat) decode(name string, raw, images []byte, labels []uint8) error {
	rs := f.recordSize()
	if len(raw)%rs != 0 {
		return f.sizeError(name, int64(len(raw)))
	}
	size := CIFARGeometry.Size()
	n := len(raw) / rs
	if len(labels) != n || (images != nil && len(images) != n*size) {
		return fmt.Errorf("%s: decode %d records: destination has room for %d labels and %d image bytes", name, n, len(labels), len(images))
	}
	for r := range n {
		rec := raw[r*rs : (r+1)*rs]
		l := rec[f.label]
		if int(l) >= f.classes {
			return fmt.Errorf("%s: record %d: label %d out of range 0..%d", name, r, l, f.classes-1)
		}
		labels[r] = l
		if images != nil {
			copy(images[r*size:(r+1)*size], rec[f.labelBytes:])
		}
	}
	return nil
}

// checkCount refuses a file of n records unless it is the official count
// or the one records gives for the file.
func checkCount(where, name string, n, official int, records map[string]int) error {
	want, listed := records[name]
	if !listed {
		want = official
	}
	if n == want {
		return nil
	}
	if listed {
		return fmt.Errorf("%s: %s: %d records, want %d (as %s says)", where, name, n, want, RecordsFile)
	}
	return fmt.Errorf("%s: %s: %d records, want %d (every official file holds %d; a subset lists its counts in %s)",
		where, name, n, want, official, RecordsFile)
}

// readBins reads the named files of set, in order, into one dataset with
// the given class names. It checks that every file exists and holds the
// expected number of records before reading any of them, then reads each
// with one read call into a reused buffer.
func readBins(ctx context.Context, set fileSet, names []string, official int, records map[string]int, f binFormat, classes []string) (*Dataset, error) {
	rs := int64(f.recordSize())
	sizes := make([]int64, len(names))
	total := 0
	for i, name := range names {
		sz, err := set.size(name)
		if err != nil {
			return nil, err
		}
		if sz%rs != 0 {
			return nil, fmt.Errorf("%s: %w", set.where(), f.sizeError(name, sz))
		}
		if err := checkCount(set.where(), name, int(sz/rs), official, records); err != nil {
			return nil, err
		}
		sizes[i] = sz
		total += int(sz / rs)
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
		if err := ctx.Err(); err != nil {
			return nil, err
		}
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
		n := len(raw) / int(rs)
		if err := f.decode(name, raw, d.Images[off*size:(off+n)*size], d.Labels[off:off+n]); err != nil {
			return nil, fmt.Errorf("%s: %w", set.where(), err)
		}
		off += n
	}
	return d, nil
}
