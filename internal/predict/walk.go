package predict

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// imageExts are the extensions (lower case) that directory walks pick up.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif"}

// ImageExtensions returns the file extensions, in lower case with the dot,
// that directory walks treat as images; the match ignores case.
func ImageExtensions() []string { return slices.Clone(imageExts) }

// IsImage reports whether name has an image extension (in any case).
func IsImage(name string) bool {
	return slices.Contains(imageExts, strings.ToLower(filepath.Ext(name)))
}

// walk calls fn with every image file under dir, in lexical order per
// directory.
func walk(dir string, fn func(path string)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && IsImage(d.Name()) {
			fn(path)
		}
		return nil
	})
}
