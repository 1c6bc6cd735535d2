package data

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// maxMember bounds the size of one archive member read into memory, so a
// corrupt header cannot trigger a huge allocation. Official files are ~30 MB.
const maxMember = 1 << 30

// fileSet is a place holding (some of) the CIFAR-10 files: a directory or a
// gzip'd tarball.
type fileSet interface {
	// where describes the location in error messages ("data dir /x").
	where() string
	// size returns the size of the named file.
	size(name string) (int64, error)
	// read returns the content of the named file. It may reuse buf.
	read(name string, buf []byte) ([]byte, error)
}

// missingFileError reports a CIFAR-10 file missing from a location; it
// matches fs.ErrNotExist.
type missingFileError struct {
	where, name string
}

func (e *missingFileError) Error() string {
	return fmt.Sprintf("%s: %s: no such file", e.where, e.name)
}

func (e *missingFileError) Unwrap() error { return fs.ErrNotExist }

// dirSet is a directory holding the files flat.
type dirSet struct{ dir string }

func (d dirSet) where() string { return "data dir " + d.dir }

func (d dirSet) size(name string) (int64, error) {
	p := filepath.Join(d.dir, name)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, &missingFileError{d.where(), name}
	}
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: %s: not a regular file", d.where(), name)
	}
	return fi.Size(), nil
}

// read reads the whole file with one read call into buf (grown if needed).
func (d dirSet) read(name string, buf []byte) ([]byte, error) {
	p := filepath.Join(d.dir, name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &missingFileError{d.where(), name}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	n := int(fi.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return buf, nil
}

// tarSet holds the wanted members of a tarball, read into memory.
type tarSet struct {
	path  string
	files map[string][]byte
}

func (t *tarSet) where() string { return "archive " + t.path }

func (t *tarSet) size(name string) (int64, error) {
	b, ok := t.files[name]
	if !ok {
		return 0, &missingFileError{t.where(), name}
	}
	return int64(len(b)), nil
}

func (t *tarSet) read(name string, _ []byte) ([]byte, error) {
	b, ok := t.files[name]
	if !ok {
		return nil, &missingFileError{t.where(), name}
	}
	return b, nil
}

// openSource resolves src (a directory with the files, a directory with an
// ArchiveDir sub-directory, or a .tar.gz) and returns the files it holds.
// For archives only the members named in want are read.
func openSource(src string, want []string) (fileSet, error) {
	fi, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &noDataError{loc: src, cause: err}
	}
	if err != nil {
		return nil, fmt.Errorf("stat data location %s: %w", src, err)
	}
	if !fi.IsDir() {
		return openArchive(src, want)
	}
	if hasAnyFile(src) {
		return dirSet{src}, nil
	}
	sub := filepath.Join(src, ArchiveDir)
	if fi, err := os.Stat(sub); err == nil && fi.IsDir() && hasAnyFile(sub) {
		return dirSet{sub}, nil
	}
	return nil, &noDataError{loc: src}
}

// hasAnyFile reports whether dir holds at least one of the CIFAR-10 files.
func hasAnyFile(dir string) bool {
	for _, name := range AllFiles() {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// memberName maps a tar member name to a CIFAR-10 file name, or "" if the
// member is not one. Members may sit in ArchiveDir or at the top level.
func memberName(h *tar.Header) string {
	if !h.FileInfo().Mode().IsRegular() {
		return ""
	}
	name := path.Clean(strings.TrimPrefix(h.Name, "./"))
	dir, base := path.Split(name)
	if dir != "" && dir != ArchiveDir+"/" {
		return ""
	}
	if !slices.Contains(AllFiles(), base) {
		return ""
	}
	return base
}

// openArchive reads the wanted members of the gzip'd tarball at p.
func openArchive(p string, want []string) (*tarSet, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open archive %s: %w", p, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("open archive %s: %w", p, err)
	}
	defer zr.Close()
	t := &tarSet{path: p, files: make(map[string][]byte, len(want))}
	tr := tar.NewReader(zr)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive %s: %w", p, err)
		}
		name := memberName(h)
		if name == "" {
			continue
		}
		found = true
		if !slices.Contains(want, name) {
			continue
		}
		if h.Size < 0 || h.Size > maxMember {
			return nil, fmt.Errorf("read archive %s: member %s: size %d too large", p, h.Name, h.Size)
		}
		b := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			return nil, fmt.Errorf("read archive %s: member %s: %w", p, h.Name, err)
		}
		t.files[name] = b
	}
	if !found {
		return nil, &noDataError{loc: p}
	}
	return t, nil
}
