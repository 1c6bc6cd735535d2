package blas

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// problem is one Sgemm call with its operands laid out with padded strides.
type problem struct {
	tA, tB      gblas.Transpose
	m, n, k     int
	alpha, beta float32
	a, b, c     []float32
	lda, ldb    int
	ldc         int
}

const padVal = float32(-777.25) // sentinel written to every padding slot

// newProblem builds random operands of the given shape. pad is added to each
// leading dimension; cInit fills C (e.g. with NaN to check beta == 0).
func newProblem(rng *rand.Rand, tA, tB gblas.Transpose, m, n, k, pad int, alpha, beta float32, cInit float32, randomC bool) *problem {
	p := &problem{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if tA != gblas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != gblas.NoTrans {
		br, bc = n, k
	}
	p.lda, p.ldb, p.ldc = max(1, ac)+pad, max(1, bc)+pad, max(1, n)+pad
	p.a = randMat(rng, ar, ac, p.lda)
	p.b = randMat(rng, br, bc, p.ldb)
	p.c = make([]float32, max(0, m*p.ldc))
	for i := range p.c {
		p.c[i] = padVal
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if randomC {
				p.c[i*p.ldc+j] = rng.Float32()*2 - 1
			} else {
				p.c[i*p.ldc+j] = cInit
			}
		}
	}
	return p
}

func randMat(rng *rand.Rand, r, c, ld int) []float32 {
	s := make([]float32, max(0, r*ld))
	for i := range s {
		s[i] = padVal
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			s[i*ld+j] = rng.Float32()*2 - 1
		}
	}
	return s
}

func (p *problem) opA(i, l int) float64 {
	if p.tA != gblas.NoTrans {
		return float64(p.a[l*p.lda+i])
	}
	return float64(p.a[i*p.lda+l])
}

func (p *problem) opB(l, j int) float64 {
	if p.tB != gblas.NoTrans {
		return float64(p.b[j*p.ldb+l])
	}
	return float64(p.b[l*p.ldb+j])
}

// reference returns the float64 result and, per element, the sum of the
// magnitudes of the terms (used to scale the tolerance).
func (p *problem) reference() (want, mag []float64) {
	want = make([]float64, p.m*p.n)
	mag = make([]float64, p.m*p.n)
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			var s, a float64
			if p.alpha != 0 {
				for l := 0; l < p.k; l++ {
					t := p.opA(i, l) * p.opB(l, j)
					s += t
					a += math.Abs(t)
				}
			}
			s *= float64(p.alpha)
			a *= math.Abs(float64(p.alpha))
			if p.beta != 0 {
				cv := float64(p.c[i*p.ldc+j])
				s += float64(p.beta) * cv
				a += math.Abs(float64(p.beta) * cv)
			}
			want[i*p.n+j], mag[i*p.n+j] = s, a
		}
	}
	return want, mag
}

func (p *problem) run(impl gblas.Float32, c []float32) {
	impl.Sgemm(p.tA, p.tB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, c, p.ldc)
}

// check compares c with the reference and verifies the padding of C is
// untouched.
func (p *problem) check(t *testing.T, c []float32) {
	t.Helper()
	want, mag := p.reference()
	bad := 0
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.ldc; j++ {
			got := c[i*p.ldc+j]
			if j >= p.n {
				if got != padVal {
					t.Fatalf("padding C[%d,%d] overwritten: %v", i, j, got)
				}
				continue
			}
			w, tol := want[i*p.n+j], 1e-6*float64(max(p.k, 1))*mag[i*p.n+j]+1e-7
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				if bad++; bad <= 5 {
					t.Errorf("C[%d,%d] = %v, want %v (tol %g)", i, j, got, w, tol)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d wrong elements", bad)
	}
}

var transposes = []struct {
	name   string
	tA, tB gblas.Transpose
}{
	{"NN", gblas.NoTrans, gblas.NoTrans},
	{"TN", gblas.Trans, gblas.NoTrans},
	{"NT", gblas.NoTrans, gblas.Trans},
	{"TT", gblas.Trans, gblas.ConjTrans},
}

type shape struct {
	name    string
	m, n, k int
	big     bool // skipped in -short mode
}

var shapes = []shape{
	{name: "1x1x1", m: 1, n: 1, k: 1},
	{name: "7x13x5", m: 7, n: 13, k: 5},
	{name: "6x16x1", m: 6, n: 16, k: 1},
	{name: "6x16x7", m: 6, n: 16, k: 7},
	{name: "8x32x9", m: 8, n: 32, k: 9},
	{name: "9x33x8", m: 9, n: 33, k: 8},
	{name: "16x64x16", m: 16, n: 64, k: 16},
	{name: "5x17x9", m: 5, n: 17, k: 9},
	{name: "12x32x256", m: 12, n: 32, k: 256},
	{name: "13x31x257", m: 13, n: 31, k: 257},
	{name: "145x33x70", m: 145, n: 33, k: 70},
	{name: "3x2100x20", m: 3, n: 2100, k: 20},
	{name: "64x64x600", m: 64, n: 64, k: 600},
	{name: "128x64x128", m: 128, n: 64, k: 128},
	{name: "128x10x128", m: 128, n: 10, k: 128},
	{name: "129x65x3073", m: 129, n: 65, k: 3073, big: true},
	{name: "128x128x3072", m: 128, n: 128, k: 3072, big: true},
	{name: "3072x128x128", m: 3072, n: 128, k: 128, big: true},
	{name: "128x3072x128", m: 128, n: 3072, k: 128, big: true},
}

var scalars = []struct {
	name        string
	alpha, beta float32
	cInit       float32
	randomC     bool
}{
	{name: "a1b0-nanC", alpha: 1, beta: 0, cInit: float32(math.NaN())},
	{name: "a2.5b0-infC", alpha: 2.5, beta: 0, cInit: float32(math.Inf(1))},
	{name: "a1b1", alpha: 1, beta: 1, randomC: true},
	{name: "a-0.5b0.75", alpha: -0.5, beta: 0.75, randomC: true},
}

// kernels lists the kernels available on this machine.
func kernels() []kernelID {
	var ks []kernelID
	for _, k := range []kernelID{kernGeneric, kernAVX2, kernAVX512} {
		if k.available() {
			ks = append(ks, k)
		}
	}
	return ks
}

func TestSgemmMatchesReference(t *testing.T) {
	for _, kn := range kernels() {
		for _, threads := range []int{1, 2} {
			impl := newImpl(threads, kn)
			for _, sh := range shapes {
				for _, tr := range transposes {
					for si, sc := range scalars {
						name := fmt.Sprintf("%s/t%d/%s/%s/%s", kn, threads, sh.name, tr.name, sc.name)
						if sh.big && (testing.Short() || si > 1 || kn == kernGeneric && tr.name != "NN") {
							continue // keep the float64 reference cheap
						}
						t.Run(name, func(t *testing.T) {
							rng := rand.New(rand.NewSource(int64(sh.m*1000003 + sh.n*1009 + sh.k)))
							p := newProblem(rng, tr.tA, tr.tB, sh.m, sh.n, sh.k, 3, sc.alpha, sc.beta, sc.cInit, sc.randomC)
							c := append([]float32(nil), p.c...)
							p.run(impl, c)
							p.check(t, c)
						})
					}
				}
			}
		}
	}
}

func TestSgemmSpecialCases(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name        string
		m, n, k     int
		alpha, beta float32
		nanAB       bool    // fill A and B with NaN (they must not be read)
		cInit       float32 // initial C
		want        float32 // expected every element of C
	}{
		{name: "alpha0-beta0-zeroes", m: 5, n: 7, k: 3, alpha: 0, beta: 0, nanAB: true, cInit: nan, want: 0},
		{name: "alpha0-beta2-scales", m: 5, n: 7, k: 3, alpha: 0, beta: 2, nanAB: true, cInit: 1.5, want: 3},
		{name: "alpha0-beta1-noop", m: 5, n: 7, k: 3, alpha: 0, beta: 1, nanAB: true, cInit: 4, want: 4},
		{name: "k0-beta0", m: 9, n: 20, k: 0, alpha: 1, beta: 0, cInit: nan, want: 0},
		{name: "k0-beta-half", m: 9, n: 20, k: 0, alpha: 1, beta: 0.5, cInit: 3, want: 1.5},
		{name: "ones-beta0-nanC", m: 13, n: 35, k: 300, alpha: 1, beta: 0, cInit: nan, want: 300},
		{name: "ones-alpha-beta", m: 13, n: 35, k: 300, alpha: 0.5, beta: -1, cInit: 2, want: 148},
	}
	for _, kn := range kernels() {
		for _, tc := range tests {
			t.Run(kn.String()+"/"+tc.name, func(t *testing.T) {
				impl := newImpl(2, kn)
				fill := float32(1)
				if tc.nanAB {
					fill = nan
				}
				a := make([]float32, tc.m*max(1, tc.k))
				b := make([]float32, max(1, tc.k)*tc.n)
				for i := range a {
					a[i] = fill
				}
				for i := range b {
					b[i] = fill
				}
				c := make([]float32, tc.m*tc.n)
				for i := range c {
					c[i] = tc.cInit
				}
				impl.Sgemm(gblas.NoTrans, gblas.NoTrans, tc.m, tc.n, tc.k, tc.alpha, a, max(1, tc.k), b, tc.n, tc.beta, c, tc.n)
				for i, v := range c {
					if v != tc.want {
						t.Fatalf("C[%d] = %v, want %v", i, v, tc.want)
					}
				}
			})
		}
	}
}

func TestSgemmZeroSizes(t *testing.T) {
	tests := []struct {
		name    string
		m, n, k int
	}{
		{name: "m0", m: 0, n: 4, k: 3},
		{name: "n0", m: 4, n: 0, k: 3},
		{name: "all0", m: 0, n: 0, k: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := []float32{42}
			New(2).Sgemm(gblas.NoTrans, gblas.NoTrans, tc.m, tc.n, tc.k, 1, nil, max(1, tc.k), nil, max(1, tc.n), 0, c, max(1, tc.n))
			if c[0] != 42 {
				t.Fatalf("C modified for an empty product: %v", c[0])
			}
		})
	}
}

// TestSgemmThreadsBitIdentical checks that the result does not depend on the
// number of threads, for splits along both m and n.
func TestSgemmThreadsBitIdentical(t *testing.T) {
	tests := []struct {
		name    string
		m, n, k int
	}{
		{name: "split-rows-edges", m: 301, n: 45, k: 517},
		{name: "split-cols-edges", m: 20, n: 1000, k: 300},
		{name: "forward-128x128x3072", m: 128, n: 128, k: 3072},
		{name: "wgrad-3072x128x128", m: 3072, n: 128, k: 128},
	}
	for _, kn := range kernels() {
		for _, tc := range tests {
			for _, tr := range transposes {
				t.Run(kn.String()+"/"+tc.name+"/"+tr.name, func(t *testing.T) {
					if nt, _ := newImpl(2, kn).plan(tc.m, tc.n, tc.k); nt < 2 {
						t.Fatalf("shape does not take the parallel path")
					}
					rng := rand.New(rand.NewSource(7))
					p := newProblem(rng, tr.tA, tr.tB, tc.m, tc.n, tc.k, 1, 1.25, 0.5, 0, true)
					ref := append([]float32(nil), p.c...)
					p.run(newImpl(1, kn), ref)
					for _, threads := range []int{2, 3, 4} {
						c := append([]float32(nil), p.c...)
						p.run(newImpl(threads, kn), c)
						for i := range c {
							if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
								t.Fatalf("threads=%d: C[%d] = %v, threads=1 gives %v", threads, i, c[i], ref[i])
							}
						}
					}
				})
			}
		}
	}
}

// TestAsmMatchesGeneric compares the assembly kernels with the portable one
// (within rounding) and with each other (bit for bit: the AVX-512 kernel
// performs the same operations per element as the AVX2 one).
func TestAsmMatchesGeneric(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2+FMA on this CPU/build")
	}
	tests := []struct {
		name    string
		m, n, k int
	}{
		{name: "tile6x16", m: 6, n: 16, k: 64},
		{name: "tile8x32", m: 8, n: 32, k: 64},
		{name: "tiles24x64", m: 24, n: 64, k: 256},
		{name: "edges", m: 31, n: 47, k: 263},
		{name: "wide", m: 7, n: 2200, k: 33},
	}
	for _, tc := range tests {
		for _, tr := range transposes {
			t.Run(tc.name+"/"+tr.name, func(t *testing.T) {
				rng := rand.New(rand.NewSource(3))
				p := newProblem(rng, tr.tA, tr.tB, tc.m, tc.n, tc.k, 2, 0.75, -1.5, 0, true)
				ca := append([]float32(nil), p.c...)
				cg := append([]float32(nil), p.c...)
				p.run(newImpl(1, kernAVX2), ca)
				p.run(newImpl(1, kernGeneric), cg)
				_, mag := p.reference()
				for i := 0; i < p.m; i++ {
					for j := 0; j < p.n; j++ {
						x, y := ca[i*p.ldc+j], cg[i*p.ldc+j]
						tol := 1e-6 * float64(p.k) * mag[i*p.n+j]
						if d := math.Abs(float64(x - y)); d > tol {
							t.Fatalf("C[%d,%d]: avx2 %v, generic %v", i, j, x, y)
						}
					}
				}
				if !hasAVX512FMA {
					return
				}
				c5 := append([]float32(nil), p.c...)
				p.run(newImpl(1, kernAVX512), c5)
				for i := range c5 {
					if math.Float32bits(c5[i]) != math.Float32bits(ca[i]) {
						t.Fatalf("C[%d]: avx512 %v, avx2 %v", i, c5[i], ca[i])
					}
				}
			})
		}
	}
}

// TestSgemmPanicsLikeGonum checks invalid arguments produce gonum's panics.
func TestSgemmPanicsLikeGonum(t *testing.T) {
	buf := make([]float32, 100)
	tests := []struct {
		name          string
		tA, tB        gblas.Transpose
		m, n, k       int
		a, b, c       []float32
		lda, ldb, ldc int
	}{
		{name: "bad-tA", tA: 'X', tB: gblas.NoTrans, m: 2, n: 2, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "bad-tB", tA: gblas.NoTrans, tB: 'X', m: 2, n: 2, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "m<0", tA: gblas.NoTrans, tB: gblas.NoTrans, m: -1, n: 2, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "n<0", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 2, n: -1, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "k<0", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 2, n: 2, k: -1, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "lda", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 2, n: 2, k: 3, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "ldaT", tA: gblas.Trans, tB: gblas.NoTrans, m: 3, n: 2, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "ldb", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 2, n: 3, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 2, ldc: 3},
		{name: "ldc", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 2, n: 3, k: 2, a: buf, b: buf, c: buf, lda: 2, ldb: 3, ldc: 2},
		{name: "shortA", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 4, n: 2, k: 2, a: buf[:7], b: buf, c: buf, lda: 2, ldb: 2, ldc: 2},
		{name: "shortB", tA: gblas.NoTrans, tB: gblas.Trans, m: 2, n: 4, k: 2, a: buf, b: buf[:7], c: buf, lda: 2, ldb: 2, ldc: 4},
		{name: "shortC", tA: gblas.NoTrans, tB: gblas.NoTrans, m: 2, n: 4, k: 2, a: buf, b: buf, c: buf[:7], lda: 2, ldb: 4, ldc: 4},
	}
	catch := func(f func()) (msg any) {
		defer func() { msg = recover() }()
		f()
		return nil
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call := func(impl gblas.Float32) func() {
				return func() {
					impl.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, tc.a, tc.lda, tc.b, tc.ldb, 0, tc.c, tc.ldc)
				}
			}
			want := catch(call(gonum.Implementation{}))
			got := catch(call(New(1)))
			if want == nil {
				t.Fatalf("gonum did not panic; bad test case")
			}
			if got != want {
				t.Fatalf("panic %v, gonum panics %v", got, want)
			}
		})
	}
}

// TestSgemmConcurrentCalls runs many calls on one Implementation at once,
// with more threads than cores so that parts get stolen by the caller and
// stale worker tasks are left behind.
func TestSgemmConcurrentCalls(t *testing.T) {
	tests := []struct {
		name       string
		threads    int
		goroutines int
	}{
		{name: "t2-g4", threads: 2, goroutines: 4},
		{name: "t4-g3", threads: 4, goroutines: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			impl := New(tc.threads)
			serial := newImpl(1, impl.kern)
			var wg sync.WaitGroup
			errs := make(chan string, tc.goroutines)
			for g := 0; g < tc.goroutines; g++ {
				wg.Add(1)
				go func(seed int64) {
					defer wg.Done()
					rng := rand.New(rand.NewSource(seed))
					for it := 0; it < 8; it++ {
						p := newProblem(rng, gblas.NoTrans, gblas.Trans, 150+it, 120, 130, 0, 1, 0, 0, false) // above parMinWork
						c := append([]float32(nil), p.c...)
						want := append([]float32(nil), p.c...)
						p.run(impl, c)
						p.run(serial, want)
						for i := range c {
							if c[i] != want[i] {
								errs <- fmt.Sprintf("seed %d iteration %d: C[%d] = %v, want %v", seed, it, i, c[i], want[i])
								return
							}
						}
					}
				}(int64(g))
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// TestSgemmNoAllocs checks that steady-state calls do not allocate.
func TestSgemmNoAllocs(t *testing.T) {
	tests := []struct {
		name    string
		threads int
		m, n, k int
	}{
		{name: "t1", threads: 1, m: 128, n: 128, k: 512},
		{name: "t2", threads: 2, m: 128, n: 128, k: 512},
		{name: "t2-small", threads: 2, m: 8, n: 8, k: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			impl := New(tc.threads)
			rng := rand.New(rand.NewSource(1))
			p := newProblem(rng, gblas.NoTrans, gblas.NoTrans, tc.m, tc.n, tc.k, 0, 1, 0, 0, false)
			p.run(impl, p.c) // warm up buffers and workers
			if n := testing.AllocsPerRun(20, func() { p.run(impl, p.c) }); n != 0 {
				t.Fatalf("%v allocs per call, want 0", n)
			}
		})
	}
}

func TestKernelName(t *testing.T) {
	tests := []struct {
		name string
		impl *Implementation
		want string
	}{
		{name: "generic", impl: newImpl(1, kernGeneric), want: KernelGeneric},
		{name: "default-is-best", impl: New(0), want: kernels()[len(kernels())-1].String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.impl.Kernel(); got != tc.want {
				t.Fatalf("Kernel() = %q, want %q", got, tc.want)
			}
		})
	}
	if New(0).Threads() < 1 {
		t.Fatal("New(0) has no threads")
	}
}

// TestWorkersExitWhenUnreachable checks that the worker goroutines of an
// Implementation stop once it is garbage collected.
func TestWorkersExitWhenUnreachable(t *testing.T) {
	tests := []struct {
		name    string
		threads int
	}{
		{name: "t2", threads: 2},
		{name: "t3", threads: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			live := func() *atomic.Int32 {
				impl := New(tc.threads)
				rng := rand.New(rand.NewSource(1))
				p := newProblem(rng, gblas.NoTrans, gblas.NoTrans, 200, 200, 200, 0, 1, 0, 0, false)
				p.run(impl, p.c)
				if n := impl.live.Load(); n != int32(tc.threads-1) {
					t.Fatalf("%d workers after a parallel call, want %d", n, tc.threads-1)
				}
				return impl.live
			}()
			deadline := time.Now().Add(5 * time.Second)
			for live.Load() != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d workers still running", live.Load())
				}
				runtime.GC()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name      string
		threads   int
		m, n, k   int
		wantNT    int
		wantSplit bool // split rows
	}{
		{name: "serial-impl", threads: 1, m: 3072, n: 128, k: 128, wantNT: 1, wantSplit: true},
		{name: "too-small", threads: 2, m: 128, n: 64, k: 128, wantNT: 1, wantSplit: true},
		{name: "fwd-rows", threads: 2, m: 128, n: 128, k: 3072, wantNT: 2, wantSplit: true},
		{name: "dW-rows", threads: 2, m: 3072, n: 128, k: 128, wantNT: 2, wantSplit: true},
		{name: "dX-cols", threads: 2, m: 128, n: 3072, k: 128, wantNT: 2, wantSplit: false},
		{name: "one-row-panel-cols", threads: 2, m: 4, n: 4096, k: 512, wantNT: 2, wantSplit: false},
		{name: "capped-by-panels", threads: 64, m: 3072, n: 128, k: 128, wantNT: 64, wantSplit: true},
		{name: "capped-by-few-panels", threads: 8, m: 2, n: 40, k: 100000, wantNT: 3, wantSplit: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			impl := newImpl(tc.threads, kernGeneric) // 6x16 tiles
			nt, split := impl.plan(tc.m, tc.n, tc.k)
			if nt != tc.wantNT || nt > 1 && split != tc.wantSplit {
				t.Fatalf("plan = (%d, rows=%v), want (%d, rows=%v)", nt, split, tc.wantNT, tc.wantSplit)
			}
		})
	}
}
