package blas

import (
	"fmt"
	"math/rand"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// benchShapes are the products of the 3072-128-...-10 MLP at batch 128.
var benchShapes = []struct {
	name    string
	tA, tB  gblas.Transpose
	m, n, k int
}{
	{name: "fwd-NN-128x128x3072", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 128, n: 128, k: 3072},
	{name: "dW-TN-3072x128x128", tA: gblas.Trans, tB: gblas.NoTrans, m: 3072, n: 128, k: 128},
	{name: "dX-NT-128x3072x128", tA: gblas.NoTrans, tB: gblas.Trans, m: 128, n: 3072, k: 128},
	{name: "fwd-NN-128x64x128", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 128, n: 64, k: 128},
	{name: "dW-TN-128x64x128", tA: gblas.Trans, tB: gblas.NoTrans, m: 128, n: 64, k: 128},
	{name: "dX-NT-128x128x64", tA: gblas.NoTrans, tB: gblas.Trans, m: 128, n: 128, k: 64},
	{name: "fwd-NN-128x10x64", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 128, n: 10, k: 64},
}

func BenchmarkSgemm(b *testing.B) {
	impls := []struct {
		name string
		impl gblas.Float32
	}{
		{"gonum", gonum.Implementation{}},
	}
	for _, k := range kernels() {
		for _, threads := range []int{1, 2} {
			if k == kernGeneric && threads == 2 {
				continue
			}
			impls = append(impls, struct {
				name string
				impl gblas.Float32
			}{fmt.Sprintf("%s-t%d", k, threads), newImpl(threads, k)})
		}
	}
	for _, sh := range benchShapes {
		rng := rand.New(rand.NewSource(1))
		p := newProblem(rng, sh.tA, sh.tB, sh.m, sh.n, sh.k, 0, 1, 0, 0, false)
		flops := 2 * float64(sh.m) * float64(sh.n) * float64(sh.k)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%s", sh.name, im.name), func(b *testing.B) {
				p.run(im.impl, p.c)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					p.run(im.impl, p.c)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkKernel measures the micro-kernels alone on L1/L2-resident panels.
func BenchmarkKernel(b *testing.B) {
	const kc = kcMax
	for _, kn := range kernels() {
		mr, nr := kn.tile()
		a := make([]float32, kc*mr)
		bp := make([]float32, kc*nr)
		c := make([]float32, mr*nr)
		for i := range a {
			a[i] = 1
		}
		for i := range bp {
			bp[i] = 1
		}
		b.Run(kn.String(), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runKernel(kn, kc, a, bp, c, nr, 1, 1, true)
			}
			b.ReportMetric(2*float64(mr*nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
