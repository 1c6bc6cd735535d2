package optim

import "math"

// GlobalNorm returns the L2 norm of all the values of grads taken together,
// accumulated in float64.
func GlobalNorm(grads [][]float32) float64 {
	var s0, s1, s2, s3 float64
	for _, g := range grads {
		j := 0
		for ; j+4 <= len(g); j += 4 {
			a, b, c, d := float64(g[j]), float64(g[j+1]), float64(g[j+2]), float64(g[j+3])
			s0 += a * a
			s1 += b * b
			s2 += c * c
			s3 += d * d
		}
		for ; j < len(g); j++ {
			a := float64(g[j])
			s0 += a * a
		}
	}
	return math.Sqrt(s0 + s1 + s2 + s3)
}

// ClipGlobalNorm scales all grads in place by a common factor so that their
// global L2 norm (GlobalNorm) is at most maxNorm, like PyTorch's
// torch.nn.utils.clip_grad_norm_, and returns the norm before clipping. It
// changes nothing if maxNorm <= 0, if the norm is already at most maxNorm,
// or if the norm is not finite (NaN or Inf: the caller should check the
// returned norm and skip such a step).
func ClipGlobalNorm(grads [][]float32, maxNorm float64) (norm float64) {
	norm = GlobalNorm(grads)
	if !(maxNorm > 0) || !(norm > maxNorm) || math.IsInf(norm, 0) {
		return norm
	}
	// Rounding the factor and each scaled value to float32 can raise a
	// value by a relative 2^-23 at most; shrinking the factor by 2^-21 keeps
	// the clipped norm at or below maxNorm (and within 1e-6 of it).
	scale := float32(maxNorm / norm * (1 - 0x1p-21))
	for _, g := range grads {
		for j := range g {
			g[j] *= scale
		}
	}
	return norm
}
