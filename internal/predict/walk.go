package predict

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// imageExts are the extensions (lower case) that directory walks pick up.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}

// ImageExtensions returns the file extensions, in lower case with the dot,
// that directory walks treat as images; the match ignores case.
func ImageExtensions() []string { return slices.Clone(imageExts) }

// IsImage reports whether name has an image extension (in any case).
func IsImage(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// FindImages returns the files under dir, recursively, whose extension is
// an image one (.png, .jpg, .jpeg, .gif, in any case), sorted by path.
//
// Symbolic links are followed, to files and to directories (dir itself may
// be one), and every real directory is listed once: a link to a directory
// inside one already walked or being walked (a loop, such as a link to a
// parent, or a shortcut within the tree) is skipped, so the walk always ends
// and no image is listed twice. Paths are as found from dir: through the
// real subdirectories, and through the link for a directory outside them. A
// link that points nowhere is listed when its name is an image's, so that
// reading it reports the problem.
func FindImages(dir string) ([]string, error) {
	return FindImagesUnder("", dir)
}

// FindImagesUnder is FindImages for dir as one part of a walk of root (such
// as a class folder of an "eval --images" folder): links back into root's
// tree are loops too, and skipped. An empty root is FindImages.
func FindImagesUnder(root, dir string) ([]string, error) {
	var out []string
	real, err := realPath(dir)
	if err != nil {
		return nil, err
	}
	w := walker{roots: []string{real}, fn: func(path string) { out = append(out, path) }}
	if root != "" {
		r, err := realPath(root)
		if err != nil {
			return nil, err
		}
		w.roots = append(w.roots, r)
	}
	if err := w.walk(dir, real); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// walker walks directories, following symbolic links.
type walker struct {
	// roots are the real (absolute, symlink-free) paths of the trees
	// walked: the starting directory and each followed link's target.
	roots []string
	fn    func(path string)
}

// walk lists the directory at path, whose real path is real.
func (w *walker) walk(path, real string) error {
	entries, err := os.ReadDir(path)
	if err != nil {
		return err // an *fs.PathError naming the directory
	}
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		switch {
		case e.IsDir():
			r := filepath.Join(real, e.Name())
			if slices.Contains(w.roots, r) {
				continue // walked already as a link's target
			}
			if err := w.walk(p, r); err != nil {
				return err
			}
		case e.Type()&os.ModeSymlink != 0:
			if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
				if IsImage(e.Name()) {
					w.fn(p) // a file, or dangling: the loader reports it
				}
				continue
			}
			r, err := realPath(p)
			if err != nil {
				return err
			}
			if w.inside(r) {
				continue // a loop, or a tree listed anyway
			}
			w.roots = append(w.roots, r)
			if err := w.walk(p, r); err != nil {
				return err
			}
		case IsImage(e.Name()):
			w.fn(p)
		}
	}
	return nil
}

// inside reports whether the real path r is one of the roots or under one.
func (w *walker) inside(r string) bool {
	for _, root := range w.roots {
		if r == root || strings.HasPrefix(r, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// realPath is path made absolute with every symbolic link resolved.
func realPath(path string) (string, error) {
	r, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	return filepath.Abs(r)
}
