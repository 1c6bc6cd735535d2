package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// InfoReport describes a data set: where it is, its classes and geometry,
// the number of images per class in each split, and, by format, every
// file's size and SHA-256 or the folder's skipped files and cache.
type InfoReport struct {
	// Kind is the data set's kind (data.dataset).
	Kind string `json:"kind"`
	// Location is where the files were found ("data dir /x", "archive /y"
	// or a folder).
	Location string `json:"location"`
	// Geometry is the images' shape.
	Geometry Geometry `json:"geometry"`
	// Classes are the class names in label order.
	Classes []string `json:"classes"`
	// Train describes the training split.
	Train SplitInfo `json:"train"`
	// Test describes the test split.
	Test SplitInfo `json:"test"`
	// Files lists the data set's files (file-based formats).
	Files []FileInfo `json:"files,omitempty"`
	// Skipped lists the files of a folder that could not be decoded.
	Skipped []Skipped `json:"skipped,omitempty"`
	// Ignored counts a folder's files without an image extension.
	Ignored int `json:"ignored,omitempty"`
	// Cache is a folder's decode cache as Info found it.
	Cache *CacheInfo `json:"cache,omitempty"`
	// Load says how a folder's images were obtained.
	Load *LoadReport `json:"load,omitempty"`
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

// LoadReport says how a folder's images were obtained: decoded, or read
// from the cache.
type LoadReport struct {
	// FromCache is set when the images were read from the cache.
	FromCache bool `json:"from_cache"`
	// Decoded is the number of files decoded.
	Decoded int `json:"decoded"`
	// Seconds is the wall time of decoding or of reading the cache.
	Seconds float64 `json:"seconds"`
	// ImagesPerSecond is Decoded/Seconds when decoding.
	ImagesPerSecond float64 `json:"images_per_second,omitempty"`
}

// fileSource is implemented by the sources stored as a few named files.
type fileSource interface {
	fileSet() fileSet
	files() []string
}

// Info opens the data set spec describes and reads both splits, validating
// every image and label as training does, and reports per-class counts and
// per-file sizes and checksums (for a folder: its skipped files and cache
// state; reading it fills the cache). Errors wrap ErrNoData or ErrInvalid.
func Info(ctx context.Context, spec Spec) (*InfoReport, error) {
	r, err := info(ctx, spec)
	return r, invalid(err)
}

func info(ctx context.Context, spec Spec) (*InfoReport, error) {
	src, err := open(spec)
	if err != nil {
		return nil, err
	}
	r := &InfoReport{Kind: src.Kind(), Location: src.Location(), Geometry: src.Geometry(), Classes: src.Classes()}
	f, isFolder := src.(*folder)
	if isFolder {
		r.Ignored = f.ignored
		c := CacheInfo{State: CacheOff}
		if fc := f.cache(); fc != nil {
			c = CacheInfo{Dir: fc.dir, State: fc.state(f)}
		}
		r.Cache = &c
	}
	for _, split := range []struct {
		name string
		info *SplitInfo
	}{{SplitTrain, &r.Train}, {SplitTest, &r.Test}} {
		d, err := src.Split(ctx, split.name)
		if err != nil {
			return nil, err
		}
		split.info.Images = d.Len()
		split.info.PerClass = make(map[string]int, len(r.Classes))
		for _, c := range r.Classes {
			split.info.PerClass[c] = 0
		}
		for _, l := range d.Labels {
			split.info.PerClass[r.Classes[l]]++
		}
	}
	if isFolder {
		r.Skipped = f.Skipped()
		l := f.loaded
		r.Load = &LoadReport{FromCache: l.cache.State == CacheUsed, Decoded: l.decoded, Seconds: l.seconds}
		if l.decoded > 0 && l.seconds > 0 {
			r.Load.ImagesPerSecond = float64(l.decoded) / l.seconds
		}
	}
	if u, ok := src.(interface{ unwrap() Source }); ok {
		src = u.unwrap()
	}
	if fsrc, ok := src.(fileSource); ok {
		set := fsrc.fileSet()
		for _, name := range fsrc.files() {
			raw, err := set.read(name, nil)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(raw)
			r.Files = append(r.Files, FileInfo{Name: name, Size: int64(len(raw)), SHA256: hex.EncodeToString(sum[:])})
		}
	}
	return r, nil
}

// WriteText writes the report as readable tables: images per class and
// split, then the files with their sizes and SHA-256, or the folder's
// skipped files and cache.
func (r *InfoReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "data set:\t%s\n", r.Kind)
	fmt.Fprintf(tw, "location:\t%s\n", r.Location)
	fmt.Fprintf(tw, "images:\t%dx%d, %d channel(s)\n\n", r.Geometry.Height, r.Geometry.Width, r.Geometry.Channels)
	fmt.Fprintf(tw, "label\tclass\ttrain\ttest\n")
	for i, c := range r.Classes {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\n", i, c, r.Train.PerClass[c], r.Test.PerClass[c])
	}
	fmt.Fprintf(tw, "\ttotal\t%d\t%d\n", r.Train.Images, r.Test.Images)
	if len(r.Files) > 0 {
		fmt.Fprintf(tw, "\nfile\tsize\tsha256\n")
		for _, f := range r.Files {
			fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Name, f.Size, f.SHA256)
		}
	}
	if r.Cache != nil {
		fmt.Fprintf(tw, "\nskipped files:\t%d\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(tw, "  %s: %s\n", s.Path, strings.ReplaceAll(s.Reason, "\t", " "))
		}
		fmt.Fprintf(tw, "ignored files:\t%d (not %s)\n", r.Ignored, strings.Join(ImageExtensions(), " "))
		cache := r.Cache.State
		if r.Cache.Dir != "" {
			cache += " (" + r.Cache.Dir + ")"
		}
		fmt.Fprintf(tw, "cache:\t%s\n", cache)
		if l := r.Load; l != nil && l.FromCache {
			fmt.Fprintf(tw, "load:\tread from the cache in %.2fs\n", l.Seconds)
		} else if l != nil {
			fmt.Fprintf(tw, "load:\tdecoded %d files in %.2fs (%.0f images/s)\n", l.Decoded, l.Seconds, l.ImagesPerSecond)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write info report: %w", err)
	}
	return nil
}
