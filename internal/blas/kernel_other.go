//go:build !amd64 || purego

package blas

// Without the amd64 assembly only the portable kernel is available.
const (
	hasAVX2FMA   = false
	hasAVX512FMA = false
)

// The functions below are never called when hasAVX2FMA is false; they let
// the driver compile on every platform.

func kernelAVX2(kc int, a, b, c []float32, ldc int, alpha, beta float32, useBeta bool) {
	kernelGeneric(kc, a, b, c, ldc, alpha, beta, useBeta)
}

func kernelAVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32, useBeta bool) {
	panic("blas: AVX-512 kernel called on an unsupported platform")
}

func transpose8AVX2(src *float32, lds int, rows int, blocks int, dst *float32, ldd int) {
	panic("blas: transpose8AVX2 called without AVX2")
}

func packRowsAVX2(width, kc int, src *float32, lds, npan int, dst *float32, pstride int) {
	panic("blas: packRowsAVX2 called without AVX2")
}

func addAVX2(dst, src *float32, n int) {
	panic("blas: addAVX2 called without AVX2")
}
