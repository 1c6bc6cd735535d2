//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || solaris

package rundir

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an flock(2) lock on f without waiting: exclusive or shared.
func tryLock(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}

func unlock(f *os.File, _ bool) { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// removeHeld removes the lock file while the lock is held.
func removeHeld(l *Lock) error { return os.Remove(l.path) }

// removeReleased has nothing left to do: the file went before the unlock.
func removeReleased(string) error { return nil }
