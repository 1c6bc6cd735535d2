package optim

import (
	"errors"
	"fmt"
	"math"
)

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

// ErrNonFinite is returned by ClipGlobalNorm for gradients whose norm is
// NaN or infinite (some gradient value is).
var ErrNonFinite = errors.New("gradient norm is not finite")

// ClipGlobalNorm scales all grads in place by a common factor so that their
// global L2 norm (GlobalNorm) is at most maxNorm, like PyTorch's
// torch.nn.utils.clip_grad_norm_ with error_if_nonfinite, and returns the
// norm before clipping. It changes nothing if maxNorm <= 0 or if the norm
// is already at most maxNorm. A NaN or infinite norm changes nothing and is
// an error wrapping ErrNonFinite: such a step must not be applied (scaling
// would spread the NaN to every value, and skipping the clip would apply
// it as it is).
func ClipGlobalNorm(grads [][]float32, maxNorm float64) (norm float64, err error) {
	norm = GlobalNorm(grads)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("%w: %v", ErrNonFinite, norm)
	}
	if !(maxNorm > 0) || !(norm > maxNorm) {
		return norm, nil
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
	return norm, nil
}
