//go:build unix

package regularfile

import (
	"os"
	"syscall"
)

// open opens path non-blocking, so that opening a FIFO without a writer
// returns at once instead of waiting for one, and without making a terminal
// the controlling one.
func open(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}

// setBlocking clears O_NONBLOCK on a regular file (it has no effect on
// regular files, but the file is handed on as if opened normally).
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}
