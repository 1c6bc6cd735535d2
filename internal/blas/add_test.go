package blas

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddToMatchesLoop checks AddTo against the plain loop, bit for bit,
// for lengths around the vector width and special values.
func TestAddToMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-45, 3e38}
	for _, n := range []int{0, 1, 7, 31, 32, 33, 64, 100, 1000} {
		dst, src := make([]float32, n), make([]float32, n+3)
		for i := range dst {
			dst[i] = float32(rng.NormFloat64())
			src[i] = float32(rng.NormFloat64())
			if i%5 == 0 {
				src[i] = special[rng.IntN(len(special))]
			}
		}
		want := append([]float32(nil), dst...)
		for i := range want {
			want[i] += src[i]
		}
		AddTo(dst, src)
		for i := range dst {
			if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: [%d] = %v (%#x), want %v (%#x)", n, i, dst[i], math.Float32bits(dst[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
}
