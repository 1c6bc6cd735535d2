package data

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/lepton-cli/lepton/internal/imaging"
)

// A folder data set is laid out like PyTorch's ImageFolder and Keras's
// image_dataset_from_directory: DIR/<class>/**/<image>. Images in nested
// sub-folders belong to their top class folder; the classes are the class
// folders' names sorted as Keras sorts them (by their bytes). With DIR/train
// and DIR/test both present, they are the training and test sets (with the
// same class folders); otherwise Spec.TestSplit of every class is held out
// as the test set, stratified and seeded.

// FolderDefault is a folder data set's geometry unless data.image_size and
// data.channels say otherwise: 32x32 RGB.
var FolderDefault = CIFARGeometry

// ImageExtensions returns the file extensions of the images a folder data
// set reads (in any case); other files are ignored.
func ImageExtensions() []string {
	return []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}
}

// isImageFile reports whether name has one of ImageExtensions.
func isImageFile(name string) bool {
	return slices.Contains(ImageExtensions(), strings.ToLower(filepath.Ext(name)))
}

// testStream is the second PCG seed word of a folder's test split, so it
// differs from the validation split's stream for the same seed.
const testStream = 0x5eed_7e57_0000_0002

// folderFile is one image file of a folder data set.
type folderFile struct {
	Rel   string `json:"path"`            // slash-separated, relative to the folder
	Class int    `json:"class"`           // label
	Test  bool   `json:"test,omitempty"`  // under test/ (folders with train/ and test/)
	Size  int64  `json:"size"`            // bytes
	MTime int64  `json:"mtime"`           // modification time, Unix nanoseconds
	Error string `json:"error,omitempty"` // why it could not be decoded; "" when it was
}

// folder is an image folder data set.
type folder struct {
	dir     string // as given
	abs     string // absolute
	spec    Spec
	fit     imaging.Fit
	g       Geometry
	classes []string
	split   bool // DIR/train and DIR/test
	files   []folderFile
	ignored int // files without an image extension

	once    sync.Once
	all     *Dataset // decoded images, in files order, without the skipped ones
	test    []bool   // per image of all: in the test set
	skipped []Skipped
	loaded  loadInfo
	err     error
}

// loadInfo says how a folder's images were obtained.
type loadInfo struct {
	cache   CacheInfo
	decoded int     // images decoded (0 when all came from the cache)
	seconds float64 // wall time of decoding or reading the cache
}

// openFolder scans spec.Dir: its class folders and their image files.
func openFolder(spec Spec, fit imaging.Fit) (*folder, error) {
	dir := spec.Dir
	if dir == "" {
		return nil, &noDataError{name: "image folder", kind: KindFolder, loc: `""`}
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &noDataError{name: "image folder", kind: KindFolder, loc: dir, cause: err}
	}
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("folder %s: not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", dir, err)
	}
	f := &folder{dir: dir, abs: abs, spec: spec, fit: fit, g: spec.geometry(FolderDefault)}
	if err := f.g.Validate(); err != nil {
		return nil, err
	}
	train, test := filepath.Join(dir, SplitTrain), filepath.Join(dir, SplitTest)
	if isDir(train) && isDir(test) {
		f.split = true
		trc, err := classFolders(train)
		if err != nil {
			return nil, err
		}
		tec, err := classFolders(test)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(trc, tec) {
			return nil, fmt.Errorf("folder %s: train/ and test/ hold different class folders: %s", dir, classDiff(trc, tec))
		}
		f.classes = trc
	} else if f.classes, err = classFolders(dir); err != nil {
		return nil, err
	}
	if len(f.classes) < 2 {
		return nil, fmt.Errorf("folder %s: %d class folders (%s), want at least 2: lay it out as DIR/<class>/<images>", dir, len(f.classes), strings.Join(f.classes, ", "))
	}
	if len(f.classes) > MaxClasses {
		return nil, fmt.Errorf("folder %s: %d class folders, at most %d are supported", dir, len(f.classes), MaxClasses)
	}
	roots := []string{""}
	if f.split {
		roots = []string{SplitTrain, SplitTest}
	}
	for _, root := range roots {
		for c, name := range f.classes {
			rel := filepath.Join(root, name)
			n := len(f.files)
			if err := f.scan(rel, c, root == SplitTest); err != nil {
				return nil, err
			}
			if len(f.files) == n {
				return nil, fmt.Errorf("folder %s: no images (%s) in class folder %s", dir, strings.Join(ImageExtensions(), " "), filepath.Join(dir, rel))
			}
		}
	}
	return f, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// classFolders returns the names of dir's sub-directories (following
// symbolic links), sorted, leaving out hidden ones.
func classFolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if isDir(filepath.Join(dir, e.Name())) {
			out = append(out, e.Name())
		}
	}
	return out, nil // ReadDir sorts by name, as Keras sorts class names
}

// classDiff describes how two sorted class lists differ.
func classDiff(train, test []string) string {
	var only []string
	for _, side := range []struct {
		name      string
		have, not []string
	}{{"train/", train, test}, {"test/", test, train}} {
		var names []string
		for _, c := range side.have {
			if !slices.Contains(side.not, c) {
				names = append(names, c)
			}
		}
		if len(names) > 0 {
			only = append(only, "only in "+side.name+": "+strings.Join(names, ", "))
		}
	}
	return strings.Join(only, "; ")
}

// scan adds the image files under the folder's rel (recursively, following
// symbolic links to directories unless they lead back to an ancestor) as
// images of class, in path order.
func (f *folder) scan(rel string, class int, test bool) error {
	var visit func(rel string, ancestors []os.FileInfo) error
	visit = func(rel string, ancestors []os.FileInfo) error {
		dir := filepath.Join(f.dir, rel)
		here, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("folder %s: %w", f.dir, err)
		}
		for _, a := range ancestors {
			if os.SameFile(a, here) {
				return nil // a link back up the tree
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("folder %s: %w", f.dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(rel, name)
			fi, err := os.Stat(filepath.Join(f.dir, p))
			if err != nil {
				// A dangling link: not an image we could read.
				if isImageFile(name) {
					f.files = append(f.files, folderFile{Rel: filepath.ToSlash(p), Class: class, Test: test, Error: err.Error()})
				}
				continue
			}
			switch {
			case fi.IsDir():
				if err := visit(p, append(ancestors, here)); err != nil {
					return err
				}
			case !isImageFile(name):
				f.ignored++
			case !fi.Mode().IsRegular():
				f.files = append(f.files, folderFile{Rel: filepath.ToSlash(p), Class: class, Test: test, Error: "not a regular file"})
			default:
				f.files = append(f.files, folderFile{Rel: filepath.ToSlash(p), Class: class, Test: test,
					Size: fi.Size(), MTime: fi.ModTime().UnixNano()})
			}
		}
		return nil
	}
	// The folder itself (and its train/ or test/) count as ancestors: a
	// link back to them is a loop too.
	var top []os.FileInfo
	for _, d := range []string{f.dir, filepath.Join(f.dir, filepath.Dir(rel))} {
		if fi, err := os.Stat(d); err == nil {
			top = append(top, fi)
		}
	}
	return visit(rel, top)
}

func (f *folder) Kind() string       { return KindFolder }
func (f *folder) Location() string   { return f.dir }
func (f *folder) Classes() []string  { return slices.Clone(f.classes) }
func (f *folder) Geometry() Geometry { return f.g }

// Skipped lists the files that could not be decoded, in path order (after
// the first Split).
func (f *folder) Skipped() []Skipped { return slices.Clone(f.skipped) }

// Split decodes the folder (or reads it from the cache) on first use and
// returns the training or the test images.
func (f *folder) Split(ctx context.Context, name string) (*Dataset, error) {
	if name != SplitTrain && name != SplitTest {
		return nil, fmt.Errorf("folder has no %q split", name)
	}
	f.once.Do(func() { f.err = f.load(ctx) })
	if f.err != nil {
		return nil, f.err
	}
	var idx []int
	for i, t := range f.test {
		if t == (name == SplitTest) {
			idx = append(idx, i)
		}
	}
	return f.all.Subset(idx), nil
}

// load fills f.all from the cache or by decoding, reports the skipped
// files, and assigns the test images.
func (f *folder) load(ctx context.Context) error {
	if err := f.decodeOrRead(ctx); err != nil {
		return err
	}
	log := f.spec.log()
	for _, s := range f.skipped {
		fmt.Fprintf(log, "%s: %s\n", s.Path, s.Reason)
	}
	if len(f.skipped) > 0 {
		if f.spec.OnError == "fail" {
			return fmt.Errorf("folder %s: %d of %d images could not be decoded, the first %s (data.on_error is fail)",
				f.dir, len(f.skipped), len(f.files), f.skipped[0].Path)
		}
		fmt.Fprintf(log, "lepton: skipped %d of %d images of folder %s that could not be decoded\n", len(f.skipped), len(f.files), f.dir)
	}
	// Every class (of each split) needs a usable image.
	type key struct {
		class int
		test  bool
	}
	have := map[key]bool{}
	var kept []folderFile
	for _, file := range f.files {
		if file.Error == "" {
			have[key{file.Class, file.Test}] = true
			kept = append(kept, file)
		}
	}
	roots := []string{""}
	if f.split {
		roots = []string{SplitTrain, SplitTest}
	}
	for _, root := range roots {
		for c, name := range f.classes {
			if !have[key{c, root == SplitTest}] {
				return fmt.Errorf("folder %s: no usable image in class folder %s", f.dir, filepath.Join(f.dir, root, name))
			}
		}
	}
	f.test = make([]bool, len(kept))
	if f.split {
		for i, file := range kept {
			f.test[i] = file.Test
		}
		return nil
	}
	_, test := stratifiedSplit(f.all.Labels, f.spec.TestSplit, f.spec.Seed, testStream)
	for _, i := range test {
		f.test[i] = true
	}
	return nil
}
