package model

import (
	G "gorgonia.org/gorgonia"

	"github.com/lepton-cli/lepton/internal/blas"
)

// UseThreads installs lepton's matrix-multiply implementation under
// Gorgonia (for every graph in the process) with the given number of
// threads (0: all cores) and returns the name of its kernel, e.g.
// "avx512-fma", "avx2-fma" or "generic". Results do not depend on the
// number of threads: the work is split over output tiles only.
func UseThreads(threads int) string {
	impl := blas.New(threads)
	G.Use(impl)
	return impl.Kernel()
}
