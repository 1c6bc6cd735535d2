//go:build !unix

package regularfile

import (
	"os"
)

// open checks path with Stat before opening it, so that a named pipe or a
// device is refused without being opened; Open checks the opened file again.
func open(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	return os.Open(path)
}

// setBlocking is a no-op: the file was opened blocking.
func setBlocking(*os.File) error { return nil }
