//go:build amd64 && !purego

package blas

import "golang.org/x/sys/cpu"

// CPU features, detected once at start-up and never modified.
var (
	hasAVX2FMA   = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512FMA = hasAVX2FMA && cpu.X86.HasAVX512F
)

// kernel6x16AVX2 computes the 6x16 tile acc = Ã·B̃ over kc packed steps and
// stores alpha*acc (useBeta == 0) or alpha*acc + beta*C (useBeta != 0) into
// the row-major tile at c with row stride ldc (in elements).
//
//go:noescape
func kernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32, useBeta int)

// kernel8x32AVX512 is kernel6x16AVX2 for an 8x32 tile (packed A steps of 8
// floats, packed B steps of 32). Each element of C goes through exactly the
// same operations as in kernel6x16AVX2.
//
//go:noescape
func kernel8x32AVX512(kc int, a, b, c *float32, ldc int, alpha, beta float32, useBeta int)

// kernelAVX2 runs the 6x16 assembly micro-kernel on slices, checking that
// they hold the panels and the full tile.
func kernelAVX2(kc int, a, b, c []float32, ldc int, alpha, beta float32, useBeta bool) {
	_ = a[kc*6-1]
	_ = b[kc*16-1]
	_ = c[5*ldc+15]
	kernel6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, b2i(useBeta))
}

// kernelAVX512 runs the 8x32 assembly micro-kernel on slices, checking that
// they hold the panels and the full tile.
func kernelAVX512(kc int, a, b, c []float32, ldc int, alpha, beta float32, useBeta bool) {
	_ = a[kc*8-1]
	_ = b[kc*32-1]
	_ = c[7*ldc+31]
	kernel8x32AVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, b2i(useBeta))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// transpose8AVX2 transposes blocks of 8 columns of a 6- or 8-row matrix;
// see kernel_amd64.s.
//
//go:noescape
func transpose8AVX2(src *float32, lds int, rows int, blocks int, dst *float32, ldd int)

// packRowsAVX2 copies, for p in [0, kc) and q in [0, npan), the width
// floats at src[p*lds+width*q:] to dst[q*pstride+width*p:]; width is 6, 8,
// 16 or 32. The caller checks the bounds.
func packRowsAVX2(width, kc int, src *float32, lds, npan int, dst *float32, pstride int) {
	switch width {
	case 6:
		packRows6AVX2(kc, src, lds, npan, dst, pstride)
	case 8:
		packRows8AVX2(kc, src, lds, npan, dst, pstride)
	case 16:
		packRows16AVX2(kc, src, lds, npan, dst, pstride)
	case 32:
		packRows32AVX2(kc, src, lds, npan, dst, pstride)
	default:
		panic("blas: unsupported packing width")
	}
}

//go:noescape
func packRows6AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)

//go:noescape
func packRows8AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)

//go:noescape
func packRows16AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)

//go:noescape
func packRows32AVX2(kc int, src *float32, lds int, npan int, dst *float32, pstride int)
