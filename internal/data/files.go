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

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// maxMember bounds the size of one file (or archive member) read into
// memory, so a corrupt header cannot trigger a huge allocation. The
// largest official file, CIFAR-100's train.bin, is 154 MB.
const maxMember = 1 << 30

// layout describes a data set stored as a few named files: the official
// binary versions of CIFAR-10 and CIFAR-100 and the IDX files of MNIST.
type layout struct {
	// name names the data set in messages ("CIFAR-10").
	name string
	// kind is its data.dataset value, for the fetch hint in messages.
	kind string
	// files are the names its files may have, including alternatives
	// (compressed or not).
	files []string
	// subdirs are the sub-directories, of a data directory or inside an
	// archive, that may hold the files (the official archive's folder).
	subdirs []string
}

// fileSet is a place holding (some of) a layout's files: a directory or a
// gzip'd tarball.
type fileSet interface {
	// where describes the location in error messages ("data dir /x").
	where() string
	// has reports whether the named file is present.
	has(name string) bool
	// size returns the size of the named file.
	size(name string) (int64, error)
	// read returns the content of the named file. It may reuse buf.
	read(name string, buf []byte) ([]byte, error)
}

// missingFileError reports a file missing from a location; it matches
// fs.ErrNotExist.
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

func (d dirSet) has(name string) bool {
	fi, err := os.Stat(filepath.Join(d.dir, name))
	return err == nil && fi.Mode().IsRegular()
}

func (d dirSet) size(name string) (int64, error) {
	p := filepath.Join(d.dir, name)
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, &missingFileError{d.where(), name}
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", d.where(), err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s: %s: not a regular file", d.where(), name)
	}
	return fi.Size(), nil
}

// read reads the whole file with one read call into buf (grown if needed).
// Only regular files are opened (a FIFO would block).
func (d dirSet) read(name string, buf []byte) ([]byte, error) {
	n, err := d.size(name)
	if err != nil {
		return nil, err
	}
	if n > maxMember {
		return nil, fmt.Errorf("%s: %s: size %d too large", d.where(), name, n)
	}
	p := filepath.Join(d.dir, name)
	f, err := regularfile.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.where(), err)
	}
	defer f.Close()
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", d.where(), name, err)
	}
	return buf, nil
}

// tarSet holds the wanted members of a tarball, read into memory.
type tarSet struct {
	path  string
	files map[string][]byte
}

func (t *tarSet) where() string { return "archive " + t.path }

func (t *tarSet) has(name string) bool {
	_, ok := t.files[name]
	return ok
}

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

// openFiles resolves src (a directory with l's files, a directory with one
// of l's sub-directories holding them, or a .tar.gz) and returns the files
// it holds. For archives only the members named in want are read.
func openFiles(src string, l layout, want []string) (fileSet, error) {
	fi, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &noDataError{name: l.name, kind: l.kind, loc: src, cause: err}
	}
	if err != nil {
		return nil, fmt.Errorf("stat data location %s: %w", src, err)
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("data location %s: not a directory or a regular file", src)
		}
		return openArchive(src, l, want)
	}
	if hasAnyFile(src, l.files) {
		return dirSet{src}, nil
	}
	for _, d := range l.subdirs {
		sub := filepath.Join(src, d)
		if fi, err := os.Stat(sub); err == nil && fi.IsDir() && hasAnyFile(sub, l.files) {
			return dirSet{sub}, nil
		}
	}
	return nil, &noDataError{name: l.name, kind: l.kind, loc: src}
}

// hasAnyFile reports whether dir holds at least one of files.
func hasAnyFile(dir string, files []string) bool {
	for _, name := range files {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// memberName maps a tar member name to one of l's file names, or "" if the
// member is not one. Members may sit in one of l.subdirs or at the top
// level.
func memberName(h *tar.Header, l layout) string {
	if !h.FileInfo().Mode().IsRegular() {
		return ""
	}
	name := path.Clean(strings.TrimPrefix(h.Name, "./"))
	dir, base := path.Split(name)
	if dir != "" && !slices.Contains(l.subdirs, strings.TrimSuffix(dir, "/")) {
		return ""
	}
	if !slices.Contains(l.files, base) {
		return ""
	}
	return base
}

// openArchive reads the wanted members of the gzip'd tarball at p.
func openArchive(p string, l layout, want []string) (*tarSet, error) {
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
		name := memberName(h, l)
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
		return nil, &noDataError{name: l.name, kind: l.kind, loc: p}
	}
	return t, nil
}
