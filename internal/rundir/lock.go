package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lepton-cli/lepton/internal/regularfile"
)

// LockFile is the name of a run directory's lock file. While a lepton
// process trains into the directory it holds an exclusive advisory lock on
// the file (flock(2); LockFileEx on Windows), which the kernel releases when
// the process ends however it ends (kill -9 included), so a lock is never
// stale. The file also holds the PID of the holder, for people and for
// error messages; the PID alone decides nothing.
const LockFile = ".lock"

// ErrLocked is returned when another process holds a run directory.
var ErrLocked = errors.New("run directory is in use")

// errWouldBlock is returned by tryLock when another process holds the lock.
var errWouldBlock = errors.New("lock held by another process")

// Lock is a held run-directory lock.
type Lock struct {
	path string
	f    *os.File
}

// Acquire takes dir's lock for this process, or fails with ErrLocked
// (naming the holder's PID) when another process holds it. Of any number
// of processes racing for one directory, exactly one wins.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	busy := 0
	for attempt := 0; attempt < 50; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock run directory %s: %w", dir, err)
		}
		if err := tryLock(f, true); err != nil {
			f.Close()
			if !errors.Is(err, errWouldBlock) {
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			// Holder (lepton runs) takes a shared lock for an instant:
			// look again a few times before calling the directory in use.
			if busy++; busy < 4 {
				time.Sleep(time.Duration(busy) * 10 * time.Millisecond)
				continue
			}
			if pid := readPID(path); pid > 0 {
				return nil, fmt.Errorf("%s: %w by process %d", dir, ErrLocked, pid)
			}
			return nil, fmt.Errorf("%s: %w by another process", dir, ErrLocked)
		}
		// The previous holder removes the file when it releases the lock:
		// if it did so between our open and our lock, we hold a lock on a
		// file nobody else sees. Start again with the file now at path.
		if !samePath(f, path) {
			unlock(f, true)
			f.Close()
			continue
		}
		l := &Lock{path: path, f: f}
		if err := l.writePID(); err != nil {
			l.Release()
			return nil, fmt.Errorf("write lock %s: %w", path, err)
		}
		return l, nil
	}
	return nil, fmt.Errorf("%s: %w (lock keeps changing)", dir, ErrLocked)
}

// samePath reports whether f is still the file at path.
func samePath(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Stat(path)
	return err == nil && os.SameFile(fi, pi)
}

// writePID replaces the file's content with this process's PID.
func (l *Lock) writePID() error {
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err := l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID returns the PID recorded in the lock file at path, 0 if none.
func readPID(path string) int {
	b, err := regularfile.ReadFile(path, 64)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Holder reports whether a process holds dir's lock (alive) and the PID
// recorded in it (0 when unknown). It probes the lock itself, so a lock
// file left by a process that died is not held.
func Holder(dir string) (pid int, alive bool) {
	path := filepath.Join(dir, LockFile)
	f, err := regularfile.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	pid = readPID(path)
	switch err := tryLock(f, false); {
	case errors.Is(err, errWouldBlock):
		return pid, true
	case err == nil:
		unlock(f, false)
	}
	return pid, false
}

// Release removes the lock file and releases the lock (in that order, so a
// process that opened the file meanwhile sees it replaced and tries again).
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	rerr := removeHeld(l)
	unlock(l.f, true)
	cerr := l.f.Close()
	l.f = nil
	if rerr == nil {
		rerr = removeReleased(l.path)
	}
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return fmt.Errorf("release lock %s: %w", l.path, rerr)
	}
	if cerr != nil {
		return fmt.Errorf("release lock %s: %w", l.path, cerr)
	}
	return nil
}
