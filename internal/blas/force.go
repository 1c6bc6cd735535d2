package blas

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// EnvKernel is the environment variable that forces the Sgemm micro-kernel:
// "avx512", "avx2" or "generic" (or the reported names "avx512-fma" and
// "avx2-fma", in any case); empty means the fastest the CPU supports.
const EnvKernel = "LEPTON_KERNEL"

// Errors of ParseKernel and ForceKernel.
var (
	// ErrUnknownKernel is a kernel name that is not one of the kernels.
	ErrUnknownKernel = errors.New("unknown kernel")
	// ErrKernelUnsupported is a kernel this CPU (or build) cannot run.
	ErrKernelUnsupported = errors.New("kernel not supported on this CPU")
)

// forced is the kernel New uses, plus one; 0 means bestKernel().
var forced atomic.Int32

// parseKernel returns the kernel named by value, a LEPTON_KERNEL value:
// "" is the best available kernel. Unknown names and kernels the CPU
// cannot run are errors naming LEPTON_KERNEL and value.
func parseKernel(value string) (kernelID, error) {
	var k kernelID
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "":
		return bestKernel(), nil
	case "avx512", KernelAVX512FMA:
		k = kernAVX512
	case "avx2", KernelAVX2FMA:
		k = kernAVX2
	case KernelGeneric:
		k = kernGeneric
	default:
		return 0, fmt.Errorf("%s=%q: %w (want avx512, avx2 or generic; empty for the best available)", EnvKernel, value, ErrUnknownKernel)
	}
	if !k.available() {
		return 0, fmt.Errorf("%s=%q: %s %w (best available: %s)", EnvKernel, value, k, ErrKernelUnsupported, bestKernel())
	}
	return k, nil
}

// ParseKernel returns the reported name ("avx512-fma", "avx2-fma" or
// "generic") of the kernel that value, a LEPTON_KERNEL value, selects; ""
// selects the fastest the CPU supports. It fails with ErrUnknownKernel or
// ErrKernelUnsupported.
func ParseKernel(value string) (string, error) {
	k, err := parseKernel(value)
	if err != nil {
		return "", err
	}
	return k.String(), nil
}

// ForceKernel makes New use the kernel that value (a LEPTON_KERNEL value,
// see ParseKernel) selects, "" restoring the fastest available, and returns
// its name. On error the previous choice is kept. Implementations already
// created keep their kernel.
func ForceKernel(value string) (string, error) {
	k, err := parseKernel(value)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(value) == "" {
		forced.Store(0)
	} else {
		forced.Store(int32(k) + 1)
	}
	return k.String(), nil
}

// selectedKernel is the kernel New uses: the forced one, else the best.
func selectedKernel() kernelID {
	if f := forced.Load(); f > 0 {
		return kernelID(f - 1)
	}
	return bestKernel()
}
