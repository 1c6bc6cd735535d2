package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"text/tabwriter"
)

// InfoReport describes a CIFAR-10 data location: its class names, the
// number of images per class in each split, and every file's size and
// SHA-256.
type InfoReport struct {
	// Location is where the files were found ("data dir /x" or "archive /y").
	Location string `json:"location"`
	// Classes are the class names in label order.
	Classes []string `json:"classes"`
	// Train describes the training split (data_batch_1..5.bin).
	Train SplitInfo `json:"train"`
	// Test describes the test split (test_batch.bin).
	Test SplitInfo `json:"test"`
	// Files lists the seven dataset files.
	Files []FileInfo `json:"files"`
}

// SplitInfo counts the images of one split.
type SplitInfo struct {
	// Images is the total number of images.
	Images int `json:"images"`
	// PerClass maps each class name to its number of images.
	PerClass map[string]int `json:"per_class"`
}

// FileInfo describes one dataset file.
type FileInfo struct {
	// Name is the file name, e.g. "data_batch_1.bin".
	Name string `json:"name"`
	// Size is the size in bytes.
	Size int64 `json:"size"`
	// SHA256 is the hex-encoded SHA-256 of the content.
	SHA256 string `json:"sha256"`
}

// Info inspects the data at src (see LoadTrain for accepted locations),
// validating every file as the loaders do, and reports per-class counts and
// per-file sizes and checksums. Like the loaders' errors, every error
// matches ErrNoData or ErrInvalid.
func Info(src string) (*InfoReport, error) {
	r, err := info(src)
	return r, invalid(err)
}

func info(src string) (*InfoReport, error) {
	set, err := openSource(src, AllFiles())
	if err != nil {
		return nil, err
	}
	classes, err := readMeta(set)
	if err != nil {
		return nil, err
	}
	r := &InfoReport{
		Location: set.where(),
		Classes:  classes,
		Train:    SplitInfo{PerClass: zeroCounts(classes)},
		Test:     SplitInfo{PerClass: zeroCounts(classes)},
	}
	var buf []byte
	for _, name := range AllFiles() {
		raw, err := set.read(name, buf)
		if err != nil {
			return nil, err
		}
		if _, ok := set.(dirSet); ok {
			buf = raw
		}
		sum := sha256.Sum256(raw)
		r.Files = append(r.Files, FileInfo{Name: name, Size: int64(len(raw)), SHA256: hex.EncodeToString(sum[:])})
		if name == MetaFile {
			continue
		}
		split := &r.Train
		if name == TestFile {
			split = &r.Test
		}
		if len(raw)%RecordSize != 0 {
			return nil, sizeError(name, int64(len(raw)))
		}
		labels := make([]uint8, len(raw)/RecordSize)
		if err := decodeBatch(name, raw, nil, labels); err != nil {
			return nil, err
		}
		for _, l := range labels {
			split.PerClass[classes[l]]++
		}
		split.Images += len(labels)
	}
	return r, nil
}

func zeroCounts(classes []string) map[string]int {
	m := make(map[string]int, len(classes))
	for _, c := range classes {
		m[c] = 0
	}
	return m
}

// WriteText writes the report as readable tables: images per class and
// split, then the files with their sizes and SHA-256.
func (r *InfoReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "location:\t%s\n\n", r.Location)
	fmt.Fprintf(tw, "label\tclass\ttrain\ttest\n")
	for i, c := range r.Classes {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\n", i, c, r.Train.PerClass[c], r.Test.PerClass[c])
	}
	fmt.Fprintf(tw, "\ttotal\t%d\t%d\n", r.Train.Images, r.Test.Images)
	fmt.Fprintf(tw, "\nfile\tsize\tsha256\n")
	for _, f := range r.Files {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Name, f.Size, f.SHA256)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write info report: %w", err)
	}
	return nil
}
