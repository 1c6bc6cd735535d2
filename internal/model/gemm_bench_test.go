package model_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
)

// gemmShape is one distinct matrix product of a training step and how
// many times the step computes it.
type gemmShape struct {
	gemmCall
	calls int
}

// stepShapes returns the distinct Sgemm calls of one training step of m
// (same transposes, sizes, leading dimensions and scalars), in the order
// of their first call: per layer the forward X·W, and from the backward
// pass dW = Xᵀ·dY and dX = dY·Wᵀ (none for the input, whose gradient the
// graph does not compute), plus batch norm's mean and variance products.
func stepShapes(b *testing.B, m benchModel) []gemmShape {
	var out []gemmShape
	seen := map[gemmCall]int{}
	for _, c := range stepCalls(b, m) {
		if i, ok := seen[c]; ok {
			out[i].calls++
			continue
		}
		seen[c] = len(out)
		out = append(out, gemmShape{gemmCall: c, calls: 1})
	}
	return out
}

// operand returns a random row-major matrix of rows x cols with leading
// dimension ld, the storage of op(X) = rows x cols when trans is NoTrans
// and of its transpose otherwise.
func operand(rng *rand.Rand, trans gblas.Transpose, rows, cols, ld int) []float32 {
	if trans != gblas.NoTrans {
		rows, cols = cols, rows
	}
	x := make([]float32, (rows-1)*ld+cols)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

// BenchmarkGEMM measures each matrix product of each config's training step
// alone, with the step's own transposes, sizes, leading dimensions, alpha
// and beta: GFLOP/s, %peak, and how many times the step computes it
// (calls/step). Names give the transposes of A and B and m x n x k.
func BenchmarkGEMM(b *testing.B) {
	coreMHz() // prints the peak assumption before any result line
	for _, name := range benchConfigs {
		b.Run("model="+name, func(b *testing.B) {
			m := loadBenchModel(b, name)
			for _, sh := range stepShapes(b, m) {
				rng := rand.New(rand.NewPCG(3, 4))
				a := operand(rng, sh.tA, sh.m, sh.k, sh.lda)
				bm := operand(rng, sh.tB, sh.k, sh.n, sh.ldb)
				c := operand(rng, gblas.NoTrans, sh.m, sh.n, sh.ldc)
				for _, kernel := range benchKernels {
					for _, threads := range benchThreads {
						b.Run(fmt.Sprintf("shape=%s/kernel=%s/threads=%d", sh.name(), kernel, threads), func(b *testing.B) {
							impl, kname := useKernel(b, kernel, threads)
							run := func() {
								impl.Sgemm(sh.tA, sh.tB, sh.m, sh.n, sh.k, sh.alpha, a, sh.lda, bm, sh.ldb, sh.beta, c, sh.ldc)
							}
							run()
							b.ReportAllocs()
							b.ResetTimer()
							for i := 0; i < b.N; i++ {
								run()
							}
							reportFLOPs(b, sh.flops(), kname, threads)
							b.ReportMetric(float64(sh.calls), "calls/step")
						})
					}
				}
			}
		})
	}
}
