package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the name of a run directory's lock file. It holds the PID of
// the lepton process training into the directory.
const LockFile = ".lock"

// ErrLocked is returned when another live process holds a run directory.
var ErrLocked = errors.New("run directory is in use")

// Lock is a held run-directory lock.
type Lock struct{ path string }

// Acquire takes dir's lock for this process. A lock left by a process that
// no longer runs (a crash, kill -9) is stale and taken over; a lock held by
// a live process is refused with ErrLocked, naming its PID.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	for attempt := 0; attempt < 3; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("write lock %s: %w", path, errors.Join(werr, cerr))
			}
			return &Lock{path: path}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock run directory %s: %w", dir, err)
		}
		pid, alive := Holder(dir)
		if alive {
			return nil, fmt.Errorf("%s: %w by process %d", dir, ErrLocked, pid)
		}
		// Stale: its process is gone. Remove it and try again.
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale lock %s: %w", path, err)
		}
	}
	return nil, fmt.Errorf("%s: %w (lock keeps changing)", dir, ErrLocked)
}

// Holder returns the PID recorded in dir's lock and whether that process
// is alive. A missing or unreadable lock gives 0, false.
func Holder(dir string) (pid int, alive bool) {
	b, err := os.ReadFile(filepath.Join(dir, LockFile))
	if err != nil {
		return 0, false
	}
	pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	if pid == os.Getpid() {
		return pid, true
	}
	err = syscall.Kill(pid, 0)
	return pid, err == nil || errors.Is(err, syscall.EPERM)
}

// Release removes the lock.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}
