//go:build unix

package main

import (
	"syscall"
	"time"
)

// selfCPU returns the CPU time (user and system) this generator used so
// far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
