//go:build unix

package runs

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this ID exists (signal 0
// probes it without sending anything; EPERM means it exists but belongs
// to someone else).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false // 0 and negative IDs address process groups
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
