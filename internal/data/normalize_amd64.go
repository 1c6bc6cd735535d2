//go:build amd64 && !purego

package data

import "golang.org/x/sys/cpu"

// normAVX2Asm normalizes the n bytes at src into the n floats at dst with
// the factors k; n must be a multiple of 16. See normalize_amd64.s.
//
//go:noescape
func normAVX2Asm(dst *float32, src *byte, n int, k *normConsts)

// normAVX512Asm is normAVX2Asm 16 lanes wide; n must be a multiple of 32.
//
//go:noescape
func normAVX512Asm(dst *float32, src *byte, n int, k *normConsts)

func init() {
	// x/sys/cpu honours GODEBUG: GODEBUG=cpu.avx512f=off or cpu.avx2=off
	// leaves those kernels out.
	if cpu.X86.HasAVX && cpu.X86.HasAVX2 {
		normKernels = append(normKernels, normKernel{name: "avx2", f: normAVX2, prefetch: prefetch})
		sumSq = sumSqSIMD
	}
	if cpu.X86.HasAVX512F {
		normKernels = append(normKernels, normKernel{name: "avx512", f: normAVX512, prefetch: prefetch})
	}
	UseSIMD(true)
}

// normAVX2 is normalizeGo with the blocks of 16 bytes done by normAVX2Asm.
func normAVX2(dst []float32, src []byte, k *normConsts) {
	n := len(src) &^ 15
	if n > 0 {
		_ = dst[len(src)-1]
		normAVX2Asm(&dst[0], &src[0], n, k)
	}
	normalizeGo(dst[n:], src[n:], k)
}

// normAVX512 is normalizeGo with the blocks of 32 bytes done by
// normAVX512Asm.
func normAVX512(dst []float32, src []byte, k *normConsts) {
	n := len(src) &^ 31
	if n > 0 {
		_ = dst[len(src)-1]
		normAVX512Asm(&dst[0], &src[0], n, k)
	}
	normalizeGo(dst[n:], src[n:], k)
}

// sumSqAVX2 adds to acc[0:4] partial sums of the n bytes at p and to
// acc[4:8] partial sums of their squares; n must be a multiple of 32. See
// sums_amd64.s.
//
//go:noescape
func sumSqAVX2(p *byte, n int, acc *[8]uint64)

// sumSqSIMD returns the sum of the bytes of b and the sum of their
// squares with sumSqAVX2 for the blocks of 32 bytes.
func sumSqSIMD(b []byte) (s, q uint64) {
	n := len(b) &^ 31
	if n > 0 {
		var acc [8]uint64
		sumSqAVX2(&b[0], n, &acc)
		s = acc[0] + acc[1] + acc[2] + acc[3]
		q = acc[4] + acc[5] + acc[6] + acc[7]
	}
	s2, q2 := sumSqGo(b[n:])
	return s + s2, q + q2
}

// prefetchAsm asks for the n bytes at p (n > 0) to be brought into the
// caches. See sums_amd64.s.
//
//go:noescape
func prefetchAsm(p *byte, n int)

// prefetch asks for the bytes of b to be brought into the caches.
func prefetch(b []byte) {
	if len(b) > 0 {
		prefetchAsm(&b[0], len(b))
	}
}
