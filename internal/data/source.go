package data

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/lepton-cli/lepton/internal/imaging"
)

// The kinds of data set, as named by the data.dataset configuration key.
const (
	KindCIFAR10      = "cifar10"
	KindCIFAR100     = "cifar100"
	KindMNIST        = "mnist"
	KindFashionMNIST = "fashion-mnist"
	KindFolder       = "folder"
)

// Kinds returns the data set kinds Open knows, the default first.
func Kinds() []string {
	return []string{KindCIFAR10, KindCIFAR100, KindMNIST, KindFashionMNIST, KindFolder}
}

// The two splits every source gives.
const (
	SplitTrain = "train"
	SplitTest  = "test"
)

// Source is a labelled image data set in one storage format. Like the
// formats of Go's image package, each is a small type in a file of its own
// (cifar10.go, cifar100.go, idx.go, folder.go); splitting, normalization,
// augmentation and batching work on what any of them gives.
type Source interface {
	// Kind returns the source's data.dataset kind.
	Kind() string
	// Location returns where the data was found (a directory or archive).
	Location() string
	// Classes returns the class names, indexed by label.
	Classes() []string
	// Geometry returns the shape of the images the splits hold.
	Geometry() Geometry
	// Split reads one split (SplitTrain or SplitTest) into memory: uint8
	// images of Geometry and labels indexing Classes.
	Split(ctx context.Context, name string) (*Dataset, error)
}

// Skipped is a file of a data set that could not be used.
type Skipped struct {
	// Path is the file's path.
	Path string `json:"path"`
	// Reason says why, in one line.
	Reason string `json:"reason"`
}

// skipper is implemented by sources that may skip unusable files.
type skipper interface {
	// Skipped lists the files skipped so far, in path order.
	Skipped() []Skipped
}

// SkippedOf returns the files src skipped while reading its splits (none
// for the formats that refuse a data set with any bad record).
func SkippedOf(src Source) []Skipped {
	if s, ok := src.(skipper); ok {
		return s.Skipped()
	}
	return nil
}

// Spec says which data set to open and how its images are to be shaped: the
// data section of a resolved configuration plus what the caller resolved
// (the location, the cache, the log).
type Spec struct {
	// Kind is one of Kinds(); empty means KindCIFAR10.
	Kind string
	// Dir is the data location: a directory, or a .tar.gz for the CIFAR
	// kinds.
	Dir string
	// Label picks CIFAR-100's labels: "fine" (100 classes, the default) or
	// "coarse" (20 superclasses).
	Label string
	// Height and Width are the image size; 0 means the data set's own
	// (32x32 for folders).
	Height, Width int
	// Channels is 1 (grey) or 3 (RGB); 0 means the data set's own (3 for
	// folders).
	Channels int
	// Resize is how images of another size are fitted: "stretch" (the
	// default), "crop" or "pad".
	Resize string
	// TestSplit is the share of a folder held out, stratified, as the test
	// set when it has no train/ and test/ sub-folders.
	TestSplit float64
	// Seed seeds that split.
	Seed uint64
	// OnError says what an undecodable file of a folder does: "skip" (the
	// default: reported on Log, skipped and listed by SkippedOf) or "fail".
	OnError string
	// CacheDir is the root of the decoded-folder cache (see CacheRoot);
	// empty means no cache.
	CacheDir string
	// Workers is the number of decoding goroutines; <= 0 means one per
	// core.
	Workers int
	// Log receives one line per skipped file ("path: reason") and other
	// problems worth a warning; nil discards them.
	Log io.Writer
	// Progress receives what a folder's loading took (decoding throughput,
	// cache reads); nil discards it.
	Progress io.Writer
}

// geometry returns the geometry spec asks for, taking each unset part
// from native.
func (s Spec) geometry(native Geometry) Geometry {
	g := native
	if s.Height > 0 {
		g.Height = s.Height
	}
	if s.Width > 0 {
		g.Width = s.Width
	}
	if s.Channels > 0 {
		g.Channels = s.Channels
	}
	return g
}

func (s Spec) fit() (imaging.Fit, error) {
	if s.Resize == "" {
		return imaging.Stretch, nil
	}
	return imaging.ParseFit(s.Resize)
}

func (s Spec) workers() int {
	if s.Workers <= 0 {
		return runtime.NumCPU()
	}
	return s.Workers
}

func (s Spec) log() io.Writer {
	if s.Log == nil {
		return io.Discard
	}
	return s.Log
}

func (s Spec) progress() io.Writer {
	if s.Progress == nil {
		return io.Discard
	}
	return s.Progress
}

// Open opens the data set spec describes: it finds the files and reads what
// tells its classes and geometry (file headers, class-name files, the
// folder tree), but no images yet. A geometry other than the data set's own
// is made by resizing every image as spec.Resize says. Errors wrap ErrNoData
// when the location holds no such data set, and ErrInvalid when it is
// unusable.
func Open(spec Spec) (Source, error) {
	src, err := open(spec)
	return src, invalid(err)
}

func open(spec Spec) (Source, error) {
	if spec.Channels != 0 && spec.Channels != 1 && spec.Channels != 3 {
		return nil, fmt.Errorf("data channels %d: want 1 or 3", spec.Channels)
	}
	fit, err := spec.fit()
	if err != nil {
		return nil, err
	}
	var src Source
	switch spec.Kind {
	case "", KindCIFAR10:
		src, err = openCIFAR10(spec.Dir)
	case KindCIFAR100:
		src, err = openCIFAR100(spec.Dir, spec.Label)
	case KindMNIST, KindFashionMNIST:
		src, err = openIDX(spec.Kind, spec.Dir)
	case KindFolder:
		return openFolder(spec, fit)
	default:
		return nil, fmt.Errorf("unknown data set %q: want one of %v", spec.Kind, Kinds())
	}
	if err != nil {
		return nil, err
	}
	if g := spec.geometry(src.Geometry()); g != src.Geometry() {
		if err := g.Validate(); err != nil {
			return nil, err
		}
		return &resized{Source: src, g: g, fit: fit, workers: spec.workers()}, nil
	}
	return src, nil
}

// Splits are the data a model trains, validates and is tested on.
type Splits struct {
	// Train and Val are the training set split in two, stratified and
	// seeded; Val is empty when no validation share was asked for.
	Train, Val *Dataset
	// Test is the source's test split.
	Test *Dataset
}

// Load reads src's training and test splits and holds valSplit of the
// training split out for validation, stratified by class and seeded with
// seed (see StratifiedSplit). Errors are marked ErrInvalid (or ErrNoData).
func Load(ctx context.Context, src Source, valSplit float64, seed uint64) (*Splits, error) {
	all, err := src.Split(ctx, SplitTrain)
	if err != nil {
		return nil, invalid(err)
	}
	test, err := src.Split(ctx, SplitTest)
	if err != nil {
		return nil, invalid(err)
	}
	trIdx, valIdx := StratifiedSplit(all.Labels, valSplit, seed)
	// The splits are copies: the full set is dropped when this returns.
	return &Splits{Train: all.Subset(trIdx), Val: all.Subset(valIdx), Test: test}, nil
}
