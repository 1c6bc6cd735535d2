package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// oddSizes are parameter lengths around the vector widths of the kernels.
var oddSizes = []int{1, 7, 8, 9, 33, 0, 15, 16, 17, 1000, 4099}

// kernelSettings are the configurations whose kernels the tests compare.
var kernelSettings = []Settings{
	{Name: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
	{Name: "adam", Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.01},
	{Name: "adamw", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.05},
	{Name: "sgd", WeightDecay: 0.001},
	{Name: "sgd", Momentum: 0.9, WeightDecay: 0.01},
	{Name: "sgd", Momentum: 0.9, Nesterov: true},
}

// useKernel makes k the active kernel until the end of the test.
func useKernel(t testing.TB, k kernel) {
	old := active
	active = k
	t.Cleanup(func() { active = old })
}

// randomValues fills x with normal values of random scales, including
// exact zeros, negative zeros and subnormals.
func randomValues(r *rand.Rand, x []float32) {
	for j := range x {
		switch r.IntN(16) {
		case 0:
			x[j] = 0
		case 1:
			x[j] = float32(math.Copysign(0, -1))
		case 2:
			x[j] = float32(r.NormFloat64() * 1e-40) // subnormal
		default:
			x[j] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-6)))
		}
	}
}

// runSteps runs steps updates of the optimizer s (with a weight-decay mask
// exempting every third parameter) on parameters of the given sizes, from
// random parameters with random gradients and learning rates drawn from
// seed, and returns the final parameters and state.
func runSteps(t testing.TB, s Settings, sizes []int, steps int, seed uint64) ([][]float32, State) {
	s.NoDecay = make([]bool, len(sizes))
	for i := range s.NoDecay {
		s.NoDecay[i] = i%3 == 2
	}
	opt, err := New(s, sizes)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 11))
	params, grads := zeros(sizes), zeros(sizes)
	for _, p := range params {
		randomValues(r, p)
	}
	for range steps {
		for _, g := range grads {
			randomValues(r, g)
		}
		opt.Step(params, grads, 0.1*r.Float64())
	}
	return params, opt.State()
}

// sameBits reports the first element where got and want differ bitwise.
func sameBits(name string, got, want [][]float32) error {
	for i := range want {
		for j := range want[i] {
			if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
				return fmt.Errorf("%s[%d][%d] = %v (%#x), want %v (%#x)", name, i, j,
					got[i][j], math.Float32bits(got[i][j]), want[i][j], math.Float32bits(want[i][j]))
			}
		}
	}
	return nil
}

// sameRun reports the first difference between two runs of runSteps.
func sameRun(gotP [][]float32, got State, wantP [][]float32, want State) error {
	if err := sameBits("params", gotP, wantP); err != nil {
		return err
	}
	if got.Name != want.Name || got.Steps != want.Steps || len(got.Buffers) != len(want.Buffers) {
		return fmt.Errorf("state %s/%d with %d buffers, want %s/%d with %d", got.Name, got.Steps, len(got.Buffers), want.Name, want.Steps, len(want.Buffers))
	}
	for name, b := range want.Buffers {
		if err := sameBits(name, got.Buffers[name], b); err != nil {
			return err
		}
	}
	return nil
}

// TestKernelsBitIdentical checks that every kernel available on this
// machine gives exactly the parameters and state of the portable Go loops
// over many steps on random data of odd lengths.
func TestKernelsBitIdentical(t *testing.T) {
	if len(kernels) == 1 {
		t.Skip("only the generic kernel is available")
	}
	for _, k := range kernels[1:] {
		for si, s := range kernelSettings {
			t.Run(fmt.Sprintf("%s/%s-%d", k.name, s.Name, si), func(t *testing.T) {
				useKernel(t, genericKernel)
				wantP, want := runSteps(t, s, oddSizes, 40, uint64(si))
				active = k
				gotP, got := runSteps(t, s, oddSizes, 40, uint64(si))
				if err := sameRun(gotP, got, wantP, want); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestThreadsBitIdentical checks that splitting the updates over several
// goroutines, inside tensors as well as between them, gives exactly the
// results of one goroutine with every kernel.
func TestThreadsBitIdentical(t *testing.T) {
	sizes := append([]int{5000}, oddSizes...)
	for _, k := range kernels {
		for si, s := range kernelSettings {
			t.Run(fmt.Sprintf("%s/%s-%d", k.name, s.Name, si), func(t *testing.T) {
				useKernel(t, k)
				wantP, want := runSteps(t, s, sizes, 10, uint64(si))
				for _, chunk := range []int{16, 37, 1 << 14} {
					usePieces(t, chunk)
					for _, threads := range []int{2, 3, 7} {
						s.Threads = threads
						gotP, got := runSteps(t, s, sizes, 10, uint64(si))
						if err := sameRun(gotP, got, wantP, want); err != nil {
							t.Fatalf("pieces of %d, %d threads: %v", chunk, threads, err)
						}
					}
				}
			})
		}
	}
	if _, err := New(Settings{Name: "adam", Threads: -1}, []int{1}); err == nil {
		t.Fatal("negative threads accepted")
	}
}

// TestForRanges checks that the parallel split covers every element
// exactly once.
func TestForRanges(t *testing.T) {
	for _, chunk := range []int{1, 16, 37, 1 << 14} {
		usePieces(t, chunk)
		for _, sizes := range [][]int{nil, {0}, {1}, {3, 0, 40}, {100, 1, 33}, oddSizes} {
			for threads := 0; threads <= 9; threads++ {
				c := &counter{seen: zeros(sizes)}
				forRanges(c.seen, threads, c)
				for i := range c.seen {
					for j, n := range c.seen[i] {
						if n != 1 {
							t.Fatalf("pieces of %d, sizes %v, %d threads: element [%d][%d] updated %v times", chunk, sizes, threads, i, j, n)
						}
					}
				}
			}
		}
	}
}

// usePieces makes every step of more than one element parallel, in pieces
// of chunk elements, until the test ends.
func usePieces(t *testing.T, chunk int) {
	oldMin, oldChunk := minParallel, parallelChunk
	minParallel, parallelChunk = 0, chunk
	t.Cleanup(func() { minParallel, parallelChunk = oldMin, oldChunk })
}

// counter counts the updates of each element.
type counter struct{ seen [][]float32 }

func (c *counter) update(i, lo, hi int) {
	for j := lo; j < hi; j++ {
		c.seen[i][j]++
	}
}

// TestConstsLayout checks the offsets at which kernel_amd64.s reads the
// factors.
func TestConstsLayout(t *testing.T) {
	var a adamConsts
	var s sgdConsts
	got := []uintptr{unsafe.Offsetof(a.shrink), unsafe.Offsetof(a.wd), unsafe.Offsetof(a.b1), unsafe.Offsetof(a.omb1),
		unsafe.Offsetof(a.b2), unsafe.Offsetof(a.omb2), unsafe.Offsetof(a.step), unsafe.Offsetof(a.invS), unsafe.Offsetof(a.eps),
		unsafe.Offsetof(s.wd), unsafe.Offsetof(s.mu), unsafe.Offsetof(s.rate), unsafe.Offsetof(s.flags)}
	want := []uintptr{0, 4, 8, 12, 16, 20, 24, 28, 32, 0, 4, 8, 16}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("offsets %v, want %v", got, want)
		}
	}
}

// TestKernelName checks that the preferred kernel is active.
func TestKernelName(t *testing.T) {
	if active.name != kernels[len(kernels)-1].name {
		t.Fatalf("active kernel %s, want %s", active.name, kernels[len(kernels)-1].name)
	}
	t.Logf("kernel %s", active.name)
}

// benchSizes are the parameter sizes of the reference model
// (3072-128-64-32-16-10 MLP): 404,378 floats.
var benchSizes = []int{3072 * 128, 128, 128 * 64, 64, 64 * 32, 32, 32 * 16, 16, 16 * 10, 10}

// bestSizes are those of configs/best.yaml's model (3072-1024-512-256-10
// with batch norm): 3,805,450 floats.
var bestSizes = []int{3072 * 1024, 1024, 1024, 1024, 1024 * 512, 512, 512, 512, 512 * 256, 256, 256, 256, 256 * 10, 10}

// BenchmarkAdamStep measures one Adam and one AdamW step on the reference
// model's parameters with each kernel, on 1 and 2 goroutines, and one
// AdamW step on configs/best.yaml's.
func BenchmarkAdamStep(b *testing.B) {
	for _, name := range []string{"adam", "adamw", "adamw-best"} {
		sizes := benchSizes
		if name == "adamw-best" {
			sizes = bestSizes
		}
		for _, k := range kernels {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/%s/threads=%d", name, k.name, threads), func(b *testing.B) {
					s := Settings{Name: strings.TrimSuffix(name, "-best"), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Threads: threads}
					benchStep(b, k, s, sizes)
				})
			}
		}
	}
}

// BenchmarkSGDStep is BenchmarkAdamStep for SGD with Nesterov momentum.
func BenchmarkSGDStep(b *testing.B) {
	for _, k := range kernels {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", k.name, threads), func(b *testing.B) {
				benchStep(b, k, Settings{Name: "sgd", Momentum: 0.9, Nesterov: true, WeightDecay: 0.01, Threads: threads}, benchSizes)
			})
		}
	}
}

func benchStep(b *testing.B, k kernel, s Settings, benchSizes []int) {
	useKernel(b, k)
	opt, err := New(s, benchSizes)
	if err != nil {
		b.Fatal(err)
	}
	// Typical values: no subnormals, which slow the arithmetic down.
	// Several gradients in turn keep Adam with L2 decay from converging to
	// the zero gradient, where the moments would become subnormal.
	r := rand.New(rand.NewPCG(1, 2))
	params := zeros(benchSizes)
	grads := [3][][]float32{zeros(benchSizes), zeros(benchSizes), zeros(benchSizes)}
	n := 0
	for i := range params {
		for j := range params[i] {
			params[i][j] = float32(0.1 * r.NormFloat64())
			for _, g := range grads {
				g[i][j] = float32(0.01 * r.NormFloat64())
			}
		}
		n += len(params[i])
	}
	b.ReportAllocs()
	step := 0
	for b.Loop() {
		opt.Step(params, grads[step%len(grads)], 1e-3)
		step++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/step")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
}

// TestAdamMatchesFloat64 checks every kernel's Adam and AdamW steps on
// random data against the PyTorch formulas evaluated in float64 from the
// same parameters and moments: the float32 operations (including the
// multiplication by 1/sqrt(c2) in place of a division by sqrt(c2)) only
// add rounding errors of a few float32 ulps.
func TestAdamMatchesFloat64(t *testing.T) {
	for _, k := range kernels {
		for _, name := range []string{"adam", "adamw"} {
			t.Run(k.name+"/"+name, func(t *testing.T) {
				useKernel(t, k)
				const wd, lr = 0.01, 0.01
				s := Settings{Name: name, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: wd}
				sizes := []int{1000, 37}
				opt, _ := New(s, sizes)
				r := rand.New(rand.NewPCG(3, 4))
				params, grads := zeros(sizes), zeros(sizes)
				for _, p := range params {
					for j := range p {
						p[j] = float32(r.NormFloat64())
					}
				}
				for step := 1; step <= 20; step++ {
					for _, g := range grads {
						for j := range g {
							g[j] = float32(r.NormFloat64() * 0.1)
						}
					}
					before, st := clone(params), opt.State()
					m0, v0 := clone(st.Buffers["m"]), clone(st.Buffers["v"])
					opt.Step(params, grads, lr)
					c1 := 1 - math.Pow(0.9, float64(step))
					c2 := 1 - math.Pow(0.999, float64(step))
					for i := range params {
						for j := range params[i] {
							p, g := float64(before[i][j]), float64(grads[i][j])
							if name == "adamw" {
								p *= 1 - lr*wd
							} else {
								g += wd * p
							}
							m := 0.9*float64(m0[i][j]) + 0.1*g
							v := 0.999*float64(v0[i][j]) + 0.001*g*g
							want := p - lr/c1*m/(math.Sqrt(v)/math.Sqrt(c2)+1e-8)
							got := float64(params[i][j])
							if math.Abs(got-want) > 4e-7*math.Abs(want)+1e-9 {
								t.Fatalf("step %d: p[%d][%d] = %v, want %v", step, i, j, got, want)
							}
						}
					}
				}
			})
		}
	}
}

// BenchmarkAdamKernel measures the Adam kernels alone on one tensor of
// 32768 floats, whose data (512 KiB) stay in the L2 cache, and on one of the
// reference model's size, whose data (6.5 MB) do not.
func BenchmarkAdamKernel(b *testing.B) {
	for _, n := range []int{32768, 404378} {
		for _, k := range kernels {
			b.Run(fmt.Sprintf("%s/n=%d", k.name, n), func(b *testing.B) {
				p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				r := rand.New(rand.NewPCG(1, 2))
				for j := range p {
					p[j], g[j] = float32(0.1*r.NormFloat64()), float32(0.01*r.NormFloat64())
				}
				c := &adamConsts{shrink: 1 - 1e-5, b1: 0.9, omb1: 0.1, b2: 0.999, omb2: 0.001, step: 1e-3, invS: 1, eps: 1e-8}
				for b.Loop() {
					k.adam(p, g, m, v, c)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
			})
		}
	}
}
