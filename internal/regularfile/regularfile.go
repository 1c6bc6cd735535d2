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

// Error reports a path that is not a regular file. Its message is one line,
// "PATH: not a regular file" or, for a directory, "PATH: is a directory".
type Error struct {
	// Path is the path as given.
	Path string
	// Mode is the file's mode, e.g. fs.ModeNamedPipe for a FIFO.
	Mode fs.FileMode
}

// Error implements error.
func (e *Error) Error() string {
	if e.Mode.IsDir() {
		return e.Path + ": " + syscall.EISDIR.Error()
	}
	return e.Path + ": " + ErrNotRegular.Error()
}

// Unwrap returns ErrNotRegular and, for a directory, syscall.EISDIR.
func (e *Error) Unwrap() []error {
	if e.Mode.IsDir() {
		return []error{ErrNotRegular, syscall.EISDIR}
	}
	return []error{ErrNotRegular}
}

// Open opens path for reading if it is a regular file, following symbolic
// links. It never blocks on a FIFO: on Unix the file is opened non-blocking
// (then switched back to blocking once it is known to be regular), elsewhere
// it is checked with Stat before it is opened. Errors from the operating
// system are returned unchanged (*fs.PathError, so errors.Is(err,
// fs.ErrNotExist) works); anything that is not a regular file is an *Error.
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
		return nil, &Error{Path: path, Mode: fi.Mode()}
	}
	if err := setBlocking(f); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, nil
}

// ReadFile reads the regular file at path, refusing, before reading it, a
// file larger than limit bytes ("PATH: file is N bytes, more than the LIMIT
// allowed", wrapping ErrTooLarge). A file that grows while it is read is cut
// off at limit+1 bytes and refused the same way. Other errors are those of
// Open, or *fs.PathError for a failed read.
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
		return nil, &sizeError{msg: fmt.Sprintf("%s: file is %d bytes, more than the %d allowed", path, fi.Size(), limit)}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &sizeError{msg: fmt.Sprintf("%s: file grew past the %d bytes allowed", path, limit)}
	}
	return b, nil
}

// sizeError is a ReadFile refusal: a one-line message wrapping ErrTooLarge.
type sizeError struct{ msg string }

func (e *sizeError) Error() string { return e.msg }

func (e *sizeError) Unwrap() error { return ErrTooLarge }
