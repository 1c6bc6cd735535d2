package blas

// kernelID selects the micro-kernel (and the packing helpers) of a call.
type kernelID uint8

const (
	kernGeneric kernelID = iota // portable Go, 6x16 tiles
	kernAVX2                    // AVX2+FMA assembly, 6x16 tiles
	kernAVX512                  // AVX-512 assembly, 8x32 tiles
)

// Kernel names reported by (*Implementation).Kernel.
const (
	KernelAVX512FMA = "avx512-fma"
	KernelAVX2FMA   = "avx2-fma"
	KernelGeneric   = "generic"
)

// String returns the name reported by (*Implementation).Kernel.
func (k kernelID) String() string {
	switch k {
	case kernAVX512:
		return KernelAVX512FMA
	case kernAVX2:
		return KernelAVX2FMA
	}
	return KernelGeneric
}

// available reports whether k can run on this CPU and build.
func (k kernelID) available() bool {
	switch k {
	case kernAVX512:
		return hasAVX512FMA
	case kernAVX2:
		return hasAVX2FMA
	}
	return true
}

// tile returns the micro-tile size (rows mr, columns nr) of k, which is
// also the shape of its packed A and B micro-panels.
func (k kernelID) tile() (mr, nr int) {
	if k == kernAVX512 {
		return 8, 32
	}
	return 6, 16
}

// simd reports whether the AVX2 packing helpers may be used with k.
func (k kernelID) simd() bool { return k != kernGeneric }

// bestKernel returns the fastest kernel the CPU supports.
func bestKernel() kernelID {
	for _, k := range []kernelID{kernAVX512, kernAVX2} {
		if k.available() {
			return k
		}
	}
	return kernGeneric
}
