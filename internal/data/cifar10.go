package data

import (
	"context"
	"fmt"
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
	// cifar10Records is the number of records of every official batch file.
	cifar10Records = 10000
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

var cifar10Layout = layout{name: "CIFAR-10", kind: KindCIFAR10,
	files: append(AllFiles(), RecordsFile), subdirs: []string{ArchiveDir}}

// cifar10Format is the record format of CIFAR-10's .bin files.
var cifar10Format = binFormat{labelBytes: 1, classes: cifar10Classes}

// cifar10 is CIFAR-10's binary version in a directory or the official
// tarball.
type cifar10 struct {
	set     fileSet
	classes []string
	records map[string]int
}

// openCIFAR10 finds the files at src and reads the class names and the
// record counts.
func openCIFAR10(src string) (*cifar10, error) {
	set, err := openFiles(src, cifar10Layout, cifar10Layout.files)
	if err != nil {
		return nil, err
	}
	return cifar10From(set)
}

// cifar10From reads the class names and record counts of set.
func cifar10From(set fileSet) (*cifar10, error) {
	classes, err := readMeta(set)
	if err != nil {
		return nil, err
	}
	records, err := readRecords(set)
	if err != nil {
		return nil, err
	}
	return &cifar10{set: set, classes: classes, records: records}, nil
}

func (c *cifar10) Kind() string       { return KindCIFAR10 }
func (c *cifar10) Location() string   { return c.set.where() }
func (c *cifar10) Classes() []string  { return append([]string(nil), c.classes...) }
func (c *cifar10) Geometry() Geometry { return CIFARGeometry }
func (c *cifar10) files() []string    { return AllFiles() }
func (c *cifar10) fileSet() fileSet   { return c.set }
func (c *cifar10) splitFiles(name string) []string {
	if name == SplitTest {
		return []string{TestFile}
	}
	return TrainFiles()
}

// Split reads the training batches or the test batch. Each file must hold
// exactly 10,000 records, or the count lepton-records.json gives for it.
func (c *cifar10) Split(ctx context.Context, name string) (*Dataset, error) {
	if name != SplitTrain && name != SplitTest {
		return nil, fmt.Errorf("CIFAR-10 has no %q split", name)
	}
	return readBins(ctx, c.set, c.splitFiles(name), cifar10Records, c.records, cifar10Format, c.Classes())
}

// ReadBatch parses the content of one .bin file. name is used in error
// messages only. The returned dataset has no class names. It fails if the
// size is not a multiple of RecordSize or a label is outside 0..9.
func ReadBatch(name string, raw []byte) (*Dataset, error) {
	if len(raw)%RecordSize != 0 {
		return nil, cifar10Format.sizeError(name, int64(len(raw)))
	}
	n := len(raw) / RecordSize
	g := CIFARGeometry
	d := &Dataset{Geometry: g, Images: make([]byte, n*g.Size()), Labels: make([]uint8, n)}
	if err := cifar10Format.decode(name, raw, d.Images, d.Labels); err != nil {
		return nil, err
	}
	return d, nil
}

// parseNames returns the class names of a names file: exactly want
// non-empty lines (surrounding white space and blank lines are ignored).
func parseNames(name string, raw []byte, want int) ([]string, error) {
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

// readNames reads and parses the names file of set.
func readNames(set fileSet, name string, want int) ([]string, error) {
	raw, err := set.read(name, nil)
	if err != nil {
		return nil, err
	}
	names, err := parseNames(name, raw, want)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", set.where(), err)
	}
	return names, nil
}

// readMeta reads and parses the CIFAR-10 class names of set.
func readMeta(set fileSet) ([]string, error) {
	return readNames(set, MetaFile, cifar10Classes)
}

// LoadTrain loads the 50,000 training images (data_batch_1..5.bin) and the
// class names from src: a directory holding the files, a directory holding
// the official cifar-10-batches-bin sub-directory, or the official
// cifar-10-binary.tar.gz. Errors wrap ErrNoData when src does not exist or
// holds no CIFAR-10 files, and ErrInvalid otherwise.
func LoadTrain(src string) (*Dataset, error) {
	return loadCIFAR10(src, SplitTrain)
}

// LoadTest loads the 10,000 test images (test_batch.bin) and the class names
// from src; see LoadTrain for the accepted locations.
func LoadTest(src string) (*Dataset, error) {
	return loadCIFAR10(src, SplitTest)
}

func loadCIFAR10(src, split string) (*Dataset, error) {
	c, err := openCIFAR10(src)
	if err != nil {
		return nil, invalid(err)
	}
	d, err := c.Split(context.Background(), split)
	return d, invalid(err)
}
