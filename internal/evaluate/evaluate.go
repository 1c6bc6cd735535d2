// Package evaluate measures a checkpoint on the test set of the data set
// it was trained on (or of another location of that kind), or on a folder
// of labelled images: the logic behind "lepton eval".
package evaluate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/predict"
)

// Formats lists the output formats of Run.
var Formats = []string{"text", "json", "csv"}

// Options configure an evaluation.
type Options struct {
	// Model is the classifier to measure; when nil, it is loaded from
	// Checkpoint.
	Model      *classifier.Model
	Checkpoint string
	// Data says where the test set is found when Images is empty.
	Data DataOptions
	// Images, when set, is a folder laid out Images/<class name>/<image
	// files> that replaces the test set; see LoadImageFolder.
	Images  string
	Output  string // text, json or csv
	TopK    int    // k of the top-k accuracy (default 3; capped at the number of classes, with a note)
	Plot    string // when set, the confusion matrix heatmap is written there (PNG)
	Workers int    // image decoding goroutines for Images (default GOMAXPROCS)
	Stdout  io.Writer
	Stderr  io.Writer // the data used, unreadable images and the written plot are reported here
}

// Run evaluates the model on its test set (or opts.Images) and writes the
// report to Stdout.
func Run(ctx context.Context, opts Options) (*metrics.Report, error) {
	write, err := writer(opts.Output)
	if err != nil {
		return nil, err
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	m := opts.Model
	if m == nil {
		if m, _, err = classifier.Load(opts.Checkpoint); err != nil {
			return nil, err
		}
		defer m.Close()
	}
	var ds *data.Dataset
	if opts.Images != "" {
		ds, err = LoadImageFolder(ctx, opts.Images, m.Classes, m.ImageShape(), opts.Workers, stderr)
	} else {
		ds, err = TestSet(ctx, m, opts.Data, stderr)
	}
	if err != nil {
		return nil, err
	}
	res, err := m.Evaluate(ctx, ds, predict.TopK(opts.TopK, len(m.Classes), stderr))
	if err != nil {
		return nil, err
	}
	// The metrics first: a figure that cannot be written loses nothing else.
	if err := write(res.Report, opts.Stdout); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	if opts.Plot != "" {
		if err := plot.Confusion(opts.Plot, m.Classes, res.Report.ConfusionMatrix); err != nil {
			return &res.Report, fmt.Errorf("--plot: %w", err)
		}
		fmt.Fprintf(stderr, "lepton: wrote the confusion matrix to %s\n", opts.Plot)
	}
	return &res.Report, nil
}

// DataOptions say where the test set of a checkpoint's data set is found.
type DataOptions struct {
	// Dir, when set, is the data set's location (--data): a data set of
	// the checkpoint's kind.
	Dir string
	// Default returns the usual location of a data set of a kind
	// (LEPTON_DATA_DIR, the cache; data.ResolveLocation), used when
	// neither Dir nor the checkpoint names an existing location; "" for
	// folders, which have none. Nil means none.
	Default func(kind string) string
	// Cache is the root of the decoded-folder cache (data.CacheRoot);
	// empty means none.
	Cache string
	// Workers is the number of decoding goroutines (0: one per core).
	Workers int
}

// TestSet loads the test split of the data set m was trained on, as its
// checkpoint describes it: the kind (CIFAR-100's label set, a folder's
// test share and seed), from o.Dir when set, else from the location the
// checkpoint records, else — when that does not exist or none was
// recorded (format 1) — from o.Default's location for the kind. Images are
// brought to the model's geometry as training brought them. Once the test
// set is loaded it says on stderr which data it chose (not when o.Dir was
// given). A data set whose class names differ from the model's is refused
// (data.ErrInvalid), naming both lists.
func TestSet(ctx context.Context, m *classifier.Model, o DataOptions, stderr io.Writer) (*data.Dataset, error) {
	kind := cmp.Or(m.Data.Dataset, data.KindCIFAR10)
	loc, why := o.Dir, "--data"
	if loc == "" {
		loc, why = m.Data.Location, "the checkpoint's data set"
		def := ""
		if o.Default != nil {
			def = o.Default(kind)
		}
		if !exists(loc) && def != "" {
			why = "the default data location"
			if loc != "" {
				why += "; the checkpoint's " + loc + " does not exist"
			}
			loc = def
		}
	}
	if loc == "" {
		return nil, data.Invalid(fmt.Errorf("the checkpoint records no location of its %s data set: give --data DIR or --images DIR", kind))
	}
	g := m.Geometry
	src, err := data.Open(data.Spec{
		Kind: kind, Dir: loc, Label: m.Data.Label,
		Height: g.Height, Width: g.Width, Channels: g.Channels, Resize: m.Data.Resize,
		TestSplit: m.Data.TestSplit, Seed: m.Data.Seed,
		CacheDir: o.Cache, Workers: o.Workers, Log: stderr,
	})
	if err != nil {
		if o.Dir == "" && loc != m.Data.Location && m.Data.Location != "" {
			err = fmt.Errorf("the checkpoint's %s data set %s does not exist, and %w", kind, m.Data.Location, err)
		}
		return nil, err
	}
	if classes := src.Classes(); !slices.Equal(classes, m.Classes) {
		return nil, data.Invalid(fmt.Errorf("the %s data set at %s has classes %s, the checkpoint %s: not the data the model was trained on (give --data or --images)",
			kind, loc, brief(classes), brief(m.Classes)))
	}
	ds, err := src.Split(ctx, data.SplitTest)
	if err != nil {
		return nil, data.Invalid(err)
	}
	if o.Dir == "" { // lepton chose the data: say which
		fmt.Fprintf(stderr, "lepton: evaluating on the test set of %s %s (%s)\n", kind, loc, why)
	}
	return ds, nil
}

// brief renders a class list for messages: all names when there are few,
// else the first ones and the count.
func brief(classes []string) string {
	const show = 5
	if len(classes) <= show+1 {
		return "[" + strings.Join(classes, " ") + "]"
	}
	return fmt.Sprintf("[%s ... (%d classes)]", strings.Join(classes[:show], " "), len(classes))
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}

// LoadImageFolder reads a labelled image folder laid out
// dir/<class name>/<image files>: every sub-folder must be named after one
// of classes (hidden ones, starting with ".", are skipped) and is searched
// recursively for image files, which are decoded in parallel and
// converted to shape like "lepton predict" does. The dataset's
// labels are the class indexes in classes. Class folders may be missing or
// empty. Symbolic links to folders are followed (class folders may be
// links), and links back into dir or into a folder already walked are
// skipped as loops. An unknown folder, an image directly in dir or any
// unreadable image is an error (each unreadable image is also reported on
// stderr).
func LoadImageFolder(ctx context.Context, dir string, classes []string, shape imaging.Shape, workers int, stderr io.Writer) (*data.Dataset, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, data.Invalid(fmt.Errorf("--images: %w", err))
	}
	var paths []string
	var labels []uint8
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := os.Stat(path) // follows a symlinked class folder
		if err != nil {
			return nil, data.Invalid(fmt.Errorf("--images: %w", err))
		}
		if !info.IsDir() {
			if predict.IsImage(e.Name()) {
				return nil, data.Invalid(fmt.Errorf("--images: %s is not in a class folder (want %s/<class name>/<images>)", path, dir))
			}
			continue
		}
		label := slices.Index(classes, e.Name())
		if label < 0 {
			return nil, data.Invalid(fmt.Errorf("--images: folder %s is not a class of the checkpoint (classes: %s)", path, strings.Join(classes, ", ")))
		}
		if label > 255 {
			return nil, data.Invalid(fmt.Errorf("--images: class %s has label %d, more than 255 classes are not supported", e.Name(), label))
		}
		files, err := predict.FindImagesUnder(dir, path) // links back into dir are loops
		if err != nil {
			return nil, data.Invalid(fmt.Errorf("--images: %w", err))
		}
		paths = append(paths, files...)
		for range files {
			labels = append(labels, uint8(label))
		}
	}
	if len(paths) == 0 {
		return nil, data.Invalid(fmt.Errorf("--images: no image files (%s) under %s/<class name>/", strings.Join(predict.ImageExtensions(), " "), dir))
	}
	g := data.Geometry{Height: shape.Height, Width: shape.Width, Channels: shape.Channels}
	ds := &data.Dataset{Geometry: g, Images: make([]byte, len(paths)*g.Size()), Labels: labels, Classes: slices.Clone(classes)}
	failed := 0
	err = predict.DecodeFiles(ctx, paths, shape, workers, func(i int, img []byte, err error) error {
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "lepton: %v\n", err)
			return nil
		}
		copy(ds.Images[i*g.Size():], img)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if failed > 0 {
		return nil, data.Invalid(fmt.Errorf("--images: %d of %d images under %s could not be read: %w", failed, len(paths), dir, ErrUnreadable))
	}
	return ds, nil
}

// ErrUnreadable is wrapped when images of an --images folder could not be
// read; each was reported on stderr.
var ErrUnreadable = errors.New("unreadable images")

func writer(format string) (func(metrics.Report, io.Writer) error, error) {
	switch format {
	case "", "text":
		return metrics.Report.WriteText, nil
	case "json":
		return metrics.Report.WriteJSON, nil
	case "csv":
		return metrics.Report.WriteCSV, nil
	}
	return nil, fmt.Errorf("--output %q: want one of text, json, csv", format)
}
