// Package regularfile opens files for reading only when they are regular
// files. A FIFO, a device or a socket given where lepton expects a file
// (an image, a checkpoint, a config, a report) would otherwise block the
// process forever or feed it endless data; a directory would fail later with
// a less clear error. Every check happens on the opened file, so a path
// swapped between the check and the read cannot slip through.
package regularfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped by the errors of Open and ReadFile for paths that
// exist but are not regular files (after following symbolic links).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by ReadFile errors for files over the size limit.
var ErrTooLarge = errors.New("file too large")

// isDir is the cause reported for a directory: "is a directory", matching
// both ErrNotRegular and syscall.EISDIR.
type isDir struct{}

func (isDir) Error() string { return syscall.EISDIR.Error() }

func (isDir) Is(target error) bool { return target == ErrNotRegular || target == syscall.EISDIR }

// notRegular returns the error for a path of mode m that is not a regular
// file: "open PATH: not a regular file" or "open PATH: is a directory".
func notRegular(path string, m fs.FileMode) error {
	if m.IsDir() {
		return &fs.PathError{Op: "open", Path: path, Err: isDir{}}
	}
	return &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
}

// Open opens path for reading if it is a regular file, following symbolic
// links. It never blocks on a FIFO: on Unix the file is opened non-blocking
// (then switched back to blocking once it is known to be regular), elsewhere
// it is checked with Stat before it is opened. All errors are
// *fs.PathError: those of the operating system unchanged (so errors.Is(err,
// fs.ErrNotExist) works), and "open PATH: not a regular file" (wrapping
// ErrNotRegular) or "open PATH: is a directory" (wrapping ErrNotRegular and
// syscall.EISDIR) for the rest.
func Open(path string) (*os.File, error) {
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, fi.Mode())
	}
	if err := setBlocking(f); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

// SizeError is the cause of a ReadFile refusal of a file over its limit.
type SizeError struct {
	// Size is the file's size, or -1 when it grew past Limit while read.
	Size int64
	// Limit is the largest size allowed.
	Limit int64
}

// Error implements error.
func (e *SizeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("file grew past the %d bytes allowed", e.Limit)
	}
	return fmt.Sprintf("file is %d bytes, more than the %d allowed", e.Size, e.Limit)
}

// Unwrap returns ErrTooLarge.
func (e *SizeError) Unwrap() error { return ErrTooLarge }

// ReadFile reads the regular file at path, refusing, before reading it, a
// file larger than limit bytes ("read PATH: file is N bytes, more than the
// LIMIT allowed", a *fs.PathError around a *SizeError). A file that grows
// while it is read is cut off after limit+1 bytes and refused the same way.
// The other errors are those of Open, or *fs.PathError for a failed read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: &SizeError{Size: fi.Size(), Limit: limit}}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &fs.PathError{Op: "read", Path: path, Err: &SizeError{Size: -1, Limit: limit}}
	}
	return b, nil
}
