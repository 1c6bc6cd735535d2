//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || solaris || windows)

package rundir

import (
	"errors"
	"io/fs"
	"os"
)

// On systems without flock or LockFileEx (aix, plan9, js, wasip1) the lock
// is a marker file created with O_EXCL beside the lock file: the first
// process to create it holds the lock until it removes it. A process that
// dies holding it leaves it behind: remove LockFile+".held" by hand then.
func tryLock(f *os.File, exclusive bool) error {
	held := f.Name() + ".held"
	if !exclusive {
		if _, err := os.Stat(held); err == nil {
			return errWouldBlock
		}
		return nil
	}
	m, err := os.OpenFile(held, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return errWouldBlock
	}
	if err != nil {
		return err
	}
	return m.Close()
}

// unlock removes the marker of an exclusive lock.
func unlock(f *os.File, exclusive bool) {
	if exclusive {
		_ = os.Remove(f.Name() + ".held")
	}
}

// removeHeld removes the lock file; unlock then removes the marker.
func removeHeld(l *Lock) error { return os.Remove(l.path) }

func removeReleased(string) error { return nil }
