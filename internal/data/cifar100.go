package data

import (
	"context"
	"fmt"
)

// CIFAR-100's binary version: train.bin (50,000 records) and test.bin
// (10,000) of a coarse label byte (20 superclasses), a fine label byte
// (100 classes) and a 32x32 RGB image in planar order; the class names in
// coarse_label_names.txt and fine_label_names.txt.
const (
	// CIFAR100Dir is the directory inside the official
	// cifar-100-binary.tar.gz holding the files.
	CIFAR100Dir = "cifar-100-binary"

	cifar100Train     = "train.bin"
	cifar100Test      = "test.bin"
	cifar100FineNames = "fine_label_names.txt"
	cifar100Coarse    = "coarse_label_names.txt"
)

// CIFAR100Files returns the names of the four files of CIFAR-100's binary
// version.
func CIFAR100Files() []string {
	return []string{cifar100Train, cifar100Test, cifar100Coarse, cifar100FineNames}
}

// The labels of CIFAR-100, as named by the data.label configuration key.
const (
	LabelFine   = "fine"
	LabelCoarse = "coarse"
)

var cifar100Layout = layout{name: "CIFAR-100", kind: KindCIFAR100,
	files: append(CIFAR100Files(), RecordsFile), subdirs: []string{CIFAR100Dir}}

// cifar100 is CIFAR-100's binary version in a directory or the official
// tarball, read with its fine or its coarse labels.
type cifar100 struct {
	set     fileSet
	format  binFormat
	classes []string
	records map[string]int
}

// openCIFAR100 finds the files at src and reads the class names of the
// label chosen ("fine" or "coarse"; empty means fine) and the record counts.
func openCIFAR100(src, label string) (*cifar100, error) {
	set, err := openFiles(src, cifar100Layout, cifar100Layout.files)
	if err != nil {
		return nil, err
	}
	return cifar100From(set, label)
}

// cifar100From reads the class names and record counts of set.
func cifar100From(set fileSet, label string) (*cifar100, error) {
	f := binFormat{labelBytes: 2, label: 1, classes: 100}
	names := cifar100FineNames
	switch label {
	case "", LabelFine:
	case LabelCoarse:
		f.label, f.classes, names = 0, 20, cifar100Coarse
	default:
		return nil, fmt.Errorf("CIFAR-100 label %q: want fine or coarse", label)
	}
	classes, err := readNames(set, names, f.classes)
	if err != nil {
		return nil, err
	}
	records, err := readRecords(set)
	if err != nil {
		return nil, err
	}
	return &cifar100{set: set, format: f, classes: classes, records: records}, nil
}

func (c *cifar100) Kind() string       { return KindCIFAR100 }
func (c *cifar100) Location() string   { return c.set.where() }
func (c *cifar100) Classes() []string  { return append([]string(nil), c.classes...) }
func (c *cifar100) Geometry() Geometry { return CIFARGeometry }
func (c *cifar100) files() []string    { return CIFAR100Files() }
func (c *cifar100) fileSet() fileSet   { return c.set }

// Split reads train.bin (exactly 50,000 records) or test.bin (10,000), or
// the counts lepton-records.json gives.
func (c *cifar100) Split(ctx context.Context, name string) (*Dataset, error) {
	switch name {
	case SplitTrain:
		return readBins(ctx, c.set, []string{cifar100Train}, 50000, c.records, c.format, c.Classes())
	case SplitTest:
		return readBins(ctx, c.set, []string{cifar100Test}, 10000, c.records, c.format, c.Classes())
	}
	return nil, fmt.Errorf("CIFAR-100 has no %q split", name)
}
