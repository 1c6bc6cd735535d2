package blas

// AddTo adds src to dst element by element: dst[i] += src[i] for every i
// in dst (src must be at least as long). Each sum is the single float32
// addition of the plain Go loop, so the results are the same bits on every
// kernel; with AVX2 eight lanes are added at a time.
func AddTo(dst, src []float32) {
	src = src[:len(dst)]
	n := 0
	if hasAVX2FMA {
		if n = len(dst) &^ 31; n > 0 {
			addAVX2(&dst[0], &src[0], n)
		}
	}
	for i := n; i < len(dst); i++ {
		dst[i] += src[i]
	}
}
