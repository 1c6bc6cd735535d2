// Package engine sets lepton's process-wide compute state in one place:
// how many cores Go schedules on (GOMAXPROCS), the matrix-multiply kernels
// installed under Gorgonia (its BLAS hook, with their thread count), and
// the garbage collector's target. Commands call Configure at start-up;
// nothing else in lepton changes these globals.
package engine

import (
	"runtime"
	"runtime/debug"

	"github.com/lepton-cli/lepton/internal/model"
)

// Settings are the process-wide compute settings.
type Settings struct {
	// Threads is the number of cores to compute on; 0 means all.
	Threads int
	// GCPercent, when > 0, sets the garbage collector's target percentage
	// (as GOGC does). Training uses 50: the data set is a large, long-lived
	// heap, and collecting at 50% growth keeps peak memory near 1.5x of it
	// for little CPU. 0 leaves the runtime's setting (GOGC) alone.
	GCPercent int
}

// Configure applies s to the process and returns the name of the
// matrix-multiply kernel in use ("avx512-fma", "avx2-fma" or "generic").
func Configure(s Settings) string {
	n := s.Threads
	if n <= 0 {
		n = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(n)
	if s.GCPercent > 0 {
		debug.SetGCPercent(s.GCPercent)
	}
	return model.UseThreads(n)
}
