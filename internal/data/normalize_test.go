package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// normStats are stats of every kind the kernels must reproduce: CIFAR-10's,
// random ones, a zero and a missing std (treated as 1), a negative mean.
var normStats = []Stats{
	{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.247, 0.2435, 0.2616}},
	{Mean: []float32{0.5, 0, 1}, Std: []float32{0.25, 1, 3}},
	{Mean: []float32{-0.3}, Std: []float32{0}},
	{Mean: []float32{0.1, 0.2, 0.3}},
	randStats(1), randStats(2), randStats(3),
}

func randStats(seed uint64) Stats {
	r := rand.New(rand.NewPCG(seed, 7))
	s := Stats{Mean: make([]float32, 3), Std: make([]float32, 3)}
	for c := range 3 {
		s.Mean[c], s.Std[c] = r.Float32(), 0.01+r.Float32()
	}
	return s
}

// allKernels returns the portable code and every SIMD kernel of this
// machine.
func allKernels() []normKernel {
	return append([]normKernel{{name: "generic"}}, normKernels...)
}

// useNorm makes k the active kernel until the test ends.
func useNorm(t testing.TB, k normKernel) {
	old := activeNorm
	activeNorm = k
	t.Cleanup(func() { activeNorm = old })
}

// TestNormalizeKernelsExhaustive checks every kernel, and the table the
// portable code uses, against the Go arithmetic on all 256 byte values of
// every channel of several stats, bit for bit, at every offset and length
// the kernels' blocks and tails can meet.
func TestNormalizeKernelsExhaustive(t *testing.T) {
	all := make([]byte, 256+64)
	for i := range all {
		all[i] = byte(i * 181) // a permutation of the 256 values, then repeats
	}
	for _, k := range allKernels() {
		for si, s := range normStats {
			t.Run(fmt.Sprintf("%s/stats-%d", k.name, si), func(t *testing.T) {
				table := s.table(3)
				for c := range 3 {
					nc := normConsts{scale: 255, mean: s.mean(c), std: s.std(c)}
					for v := range 256 {
						want := (float32(byte(v))/255 - s.mean(c)) / s.std(c)
						if math.Float32bits(table[c][v]) != math.Float32bits(want) {
							t.Fatalf("table[%d][%d] = %v, want %v", c, v, table[c][v], want)
						}
					}
					f := k.f
					if f == nil {
						f = func(dst []float32, src []byte, _ *normConsts) { lookup(dst, src, &table[c]) }
					}
					for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 256, 256 + 63} {
						for _, off := range []int{0, 1, 3} {
							if off+n > len(all) {
								continue
							}
							src := all[off : off+n]
							got := make([]float32, n+1)
							got[n] = 42
							f(got, src, &nc)
							for i, v := range src {
								want := (float32(v)/255 - nc.mean) / nc.std
								if math.Float32bits(got[i]) != math.Float32bits(want) {
									t.Fatalf("channel %d, n %d, offset %d: byte %d gives %v, want %v", c, n, off, v, got[i], want)
								}
							}
							if got[n] != 42 {
								t.Fatalf("n %d: wrote past the end", n)
							}
						}
					}
				}
			})
		}
	}
}

// TestNormalizeKernelsAgree checks that Stats.Normalize, Fill and the
// loader give the same bits with every kernel on whole random images.
func TestNormalizeKernelsAgree(t *testing.T) {
	d := synth(6, 11)
	idx := []int{5, 0, 3, 3}
	for si, s := range normStats {
		var wantX []float32
		var wantImg []float32
		for _, k := range allKernels() {
			t.Run(fmt.Sprintf("%s/stats-%d", k.name, si), func(t *testing.T) {
				useNorm(t, k)
				x := make([]float32, len(idx)*imageSize)
				Fill(x, make([]int, len(idx)), d, idx, s)
				img := make([]float32, imageSize-5) // a short dst too
				s.Normalize(img, d.Image(1))
				if wantX == nil {
					wantX, wantImg = x, img
					return
				}
				for i := range x {
					if math.Float32bits(x[i]) != math.Float32bits(wantX[i]) {
						t.Fatalf("Fill: x[%d] = %v, generic gives %v", i, x[i], wantX[i])
					}
				}
				for i := range img {
					if math.Float32bits(img[i]) != math.Float32bits(wantImg[i]) {
						t.Fatalf("Normalize: dst[%d] = %v, generic gives %v", i, img[i], wantImg[i])
					}
				}
			})
		}
	}
}

// TestUseSIMD checks the kernel switches UseSIMD and UseKernel.
func TestUseSIMD(t *testing.T) {
	useNorm(t, activeNorm)
	UseSIMD(false)
	if got := NormalizeKernel(); got != "generic" {
		t.Fatalf("UseSIMD(false): kernel %s, want generic", got)
	}
	UseSIMD(true)
	want := "generic"
	if len(normKernels) > 0 {
		want = normKernels[len(normKernels)-1].name
	}
	if got := NormalizeKernel(); got != want {
		t.Fatalf("UseSIMD(true): kernel %s, want %s", got, want)
	}
	for _, tc := range []struct{ isa, want string }{
		{"generic", "generic"}, {"avx2-fma", best("avx2")}, {"AVX2", best("avx2")},
		{"avx512", best("avx512", "avx2")}, {"avx512-fma", best("avx512", "avx2")},
	} {
		if err := UseKernel(tc.isa); err != nil {
			t.Fatal(err)
		}
		if got := NormalizeKernel(); got != tc.want {
			t.Errorf("UseKernel(%q): kernel %s, want %s", tc.isa, got, tc.want)
		}
	}
	before := NormalizeKernel()
	if err := UseKernel("sse2"); err == nil || NormalizeKernel() != before {
		t.Fatalf("UseKernel(sse2): %v, kernel %s (was %s)", err, NormalizeKernel(), before)
	}
	t.Logf("kernels %v, active %s", allKernels(), want)
}

// best returns the first of names this machine has a kernel for, else
// "generic".
func best(names ...string) string {
	for _, n := range names {
		for _, k := range normKernels {
			if k.name == n {
				return n
			}
		}
	}
	return "generic"
}

// BenchmarkNormalize measures normalizing one batch of 128 CIFAR images
// with every kernel.
func BenchmarkNormalize(b *testing.B) {
	d := synth(128, 5)
	s := ComputeStats(d)
	idx := make([]int, 128)
	for i := range idx {
		idx[i] = i
	}
	x, y := make([]float32, 128*imageSize), make([]int, 128)
	for _, k := range allKernels() {
		b.Run(k.name, func(b *testing.B) {
			useNorm(b, k)
			b.SetBytes(int64(len(x)))
			for b.Loop() {
				Fill(x, y, d, idx, s)
			}
		})
	}
}

// TestSumSq checks the SIMD sums of ComputeStats against the Go loop,
// exactly, on random bytes and on all-255 runs long enough to overflow any
// 32-bit partial sum.
func TestSumSq(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	rnd := make([]byte, 5000)
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	full := make([]byte, 1<<20)
	for i := range full {
		full[i] = 255
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil}, {"short", rnd[:31]}, {"one block", rnd[:32]}, {"block and tail", rnd[1:34]},
		{"plane", rnd[:1024]}, {"odd", rnd[3:4999]}, {"all 255", full},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ws, wq := sumSqGo(tc.b)
			if s, q := sumSq(tc.b); s != ws || q != wq {
				t.Fatalf("sumSq = %d, %d; want %d, %d", s, q, ws, wq)
			}
		})
	}
}

// BenchmarkComputeStats measures the stats of 4,000 CIFAR images.
func BenchmarkComputeStats(b *testing.B) {
	d := synth(4000, 3)
	b.SetBytes(int64(len(d.Images)))
	for b.Loop() {
		ComputeStats(d)
	}
}
