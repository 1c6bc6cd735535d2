package blas

// Micro-tile of the portable kernel (the same as the AVX2 kernel's).
const (
	genMR = 6
	genNR = 16
)

// kernelGeneric is the portable micro-kernel. It has exactly the contract of
// the AVX2 kernel: it multiplies a packed genMR×kc panel of A (genMR floats
// per step) by a packed kc×genNR panel of B (genNR floats per step) and
// stores alpha*acc, or alpha*acc + beta*C when useBeta is set, into the full
// genMR×genNR tile of c with row stride ldc. It works on 2x4 register
// blocks, accumulating over p in order like the assembly kernels.
func kernelGeneric(kc int, a, b, c []float32, ldc int, alpha, beta float32, useBeta bool) {
	a = a[:kc*genMR]
	b = b[:kc*genNR]
	for r := 0; r < genMR; r += 2 {
		for h := 0; h < genNR; h += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			ai, bi := r, h
			for p := 0; p < kc; p++ {
				av := a[ai : ai+2 : ai+2]
				bv := b[bi : bi+4 : bi+4]
				a0, a1 := av[0], av[1]
				b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
				ai += genMR
				bi += genNR
			}
			store4(c[r*ldc+h:r*ldc+h+4:r*ldc+h+4], c00, c01, c02, c03, alpha, beta, useBeta)
			store4(c[(r+1)*ldc+h:(r+1)*ldc+h+4:(r+1)*ldc+h+4], c10, c11, c12, c13, alpha, beta, useBeta)
		}
	}
}

// store4 writes alpha*acc (+ beta*dst when useBeta) into dst[0:4].
func store4(dst []float32, c0, c1, c2, c3, alpha, beta float32, useBeta bool) {
	if useBeta {
		dst[0] = alpha*c0 + beta*dst[0]
		dst[1] = alpha*c1 + beta*dst[1]
		dst[2] = alpha*c2 + beta*dst[2]
		dst[3] = alpha*c3 + beta*dst[3]
		return
	}
	dst[0] = alpha * c0
	dst[1] = alpha * c1
	dst[2] = alpha * c2
	dst[3] = alpha * c3
}
