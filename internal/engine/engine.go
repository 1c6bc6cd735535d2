// Package engine sets lepton's process-wide compute state in one place:
// how many cores Go schedules on (GOMAXPROCS), the matrix-multiply kernels
// installed under Gorgonia (its BLAS hook, with their thread count), and
// the garbage collector's target. Commands call Configure at start-up;
// nothing else in lepton changes these globals.
package engine

import (
	"runtime"
	"runtime/debug"

	"github.com/lepton-cli/lepton/internal/blas"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/optim"
)

// EnvKernel is the environment variable that forces the matrix-multiply
// kernel (see ForceKernel).
const EnvKernel = blas.EnvKernel

// ForceKernel applies value, a LEPTON_KERNEL value, to the kernels of later
// Configure calls: "avx512" (or "avx512-fma"), "avx2" (or "avx2-fma") or
// "generic", in any case; empty means the fastest the CPU supports.
// The optimizers' and the input normalization's kernels follow: they use
// no wider instructions than the matrix multiply's ("generic": the
// portable Go code, so no SIMD assembly runs). It returns the matrix-multiply kernel's name, or an
// error naming LEPTON_KERNEL and value for an unknown kernel or one the
// CPU cannot run (blas.ErrUnknownKernel, blas.ErrKernelUnsupported), in
// which case nothing changes.
func ForceKernel(value string) (string, error) {
	name, err := blas.ForceKernel(value)
	if err != nil {
		return "", err
	}
	_ = optim.UseKernel(name) // blas's names are known to both: no error
	_ = data.UseKernel(name)
	return name, nil
}

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
