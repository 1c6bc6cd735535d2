//go:build windows

package rundir

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// overlapped places the byte LockFileEx locks at offset 2^62, far beyond
// the PID: Windows locks are mandatory and would make the PID unreadable.
func overlapped() *windows.Overlapped {
	return &windows.Overlapped{OffsetHigh: 1 << 30}
}

// tryLock takes a LockFileEx lock on one byte of f without waiting.
func tryLock(f *os.File, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, overlapped())
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errWouldBlock
	}
	return err
}

func unlock(f *os.File, _ bool) {
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, overlapped())
}

// removeHeld leaves the file: Windows cannot remove a file that is open.
func removeHeld(*Lock) error { return nil }

// removeReleased removes the file once closed; when another process has
// opened it meanwhile (to take the lock), Windows refuses and the file
// stays, which is what that process needs.
func removeReleased(path string) error {
	_ = os.Remove(path) // fails only when the next holder has it open
	return nil
}
