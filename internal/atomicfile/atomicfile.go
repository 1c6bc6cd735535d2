// Package atomicfile writes files atomically: the new content is written to a
// temporary file in the target's directory, flushed to stable storage and then
// renamed over the target, so readers see either the complete old file or the
// complete new one, never a torn mix.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// bufSize is the size of the write buffer handed to fill.
const bufSize = 64 << 10

// maxTempAttempts bounds how many temporary names are tried before giving up.
const maxTempAttempts = 100

// WriteFile atomically replaces (or creates) the file at path with data.
//
// It behaves like Write with a fill function that writes data.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write atomically replaces (or creates) the file at path with whatever fill
// writes to w.
//
// The content goes to a temporary file in the same directory as path, created
// with permissions perm (minus the umask, as with os.WriteFile). After fill
// returns nil the temporary file is flushed, fsynced and renamed over path,
// and then the directory is fsynced so the rename itself is durable. The new
// file always gets perm; the permissions of a replaced file are not kept. If
// path is a symbolic link, the link itself is replaced.
//
// If fill returns an error, or any step before the rename fails, the temporary
// file is removed and an existing file at path is left untouched; the returned
// error wraps the cause (including fill's error). An error from the final
// directory fsync is reported although the new content is already in place.
func Write(path string, perm fs.FileMode, fill func(w io.Writer) error) (err error) {
	if fill == nil {
		return fmt.Errorf("write %s: nil fill function", path)
	}
	dir := filepath.Dir(path)
	f, err := createTemp(dir, filepath.Base(path), perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	closed, renamed := false, false
	// Deferred so that the temporary file is also removed if fill panics.
	defer func() {
		if renamed {
			return
		}
		if !closed {
			_ = f.Close()
		}
		_ = os.Remove(tmp)
	}()

	bw := bufio.NewWriterSize(f, bufSize)
	if err := fill(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s after writing %s: %w", dir, filepath.Base(path), err)
	}
	return nil
}

// createTemp creates a new hidden file next to the target. Unlike
// os.CreateTemp it honours perm (subject to the umask) instead of forcing 0600.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	var lastErr error
	for range maxTempAttempts {
		name := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create temporary file: %w", err)
		}
		lastErr = err
	}
	return nil, fmt.Errorf("create temporary file in %s: %d names taken: %w", dir, maxTempAttempts, lastErr)
}
