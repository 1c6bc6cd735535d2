// Package blas provides a BLAS implementation for Gorgonia whose float32
// matrix product (Sgemm) is a cache-blocked, packed, multi-threaded GEMM
// with a register-tiled AVX2+FMA assembly micro-kernel on amd64 and a
// portable pure-Go micro-kernel elsewhere (or under the purego build tag);
// CPUs with AVX-512 use an 8x32 AVX-512 kernel with the same arithmetic.
// Every other routine is inherited from gonum's pure-Go implementation.
//
// Install it with gorgonia.Use(blas.New(threads)).
//
// Results do not depend on the number of threads: the work is split over
// tiles of C only, never over the k dimension, so every element of C is
// computed by the same sequence of floating-point operations (the AVX2 and
// AVX-512 kernels even give bit-identical results). The kernel is chosen
// with golang.org/x/sys/cpu, so GODEBUG=cpu.avx512f=off forces the AVX2
// kernel and GODEBUG=cpu.avx2=off the portable one; ForceKernel (the
// LEPTON_KERNEL environment variable, applied by lepton's commands) picks
// one explicitly.
//
// Parallel calls hand parts of C to worker goroutines, which poll for work
// for a few microseconds after each part before sleeping, so that they do
// not take the cores of goroutines computing beside them.
package blas

import (
	"runtime"
	"sync"
	"sync/atomic"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// parMinWork is the smallest m*n*k for which Sgemm uses more than one thread.
const parMinWork = 1 << 21

// Implementation is a gonum BLAS implementation whose Sgemm is replaced by a
// fast blocked GEMM. It is safe for concurrent use. The zero value is not
// usable; create one with New.
type Implementation struct {
	gonum.Implementation

	threads int
	kern    kernelID

	mu   sync.Mutex
	free []*workspace // idle per-thread packing buffers
	jobs []*job       // idle call descriptors

	once  sync.Once
	tasks chan task     // feeds the threads-1 worker goroutines
	live  *atomic.Int32 // number of running worker goroutines
}

// New returns an Implementation that runs Sgemm on up to threads goroutines
// (threads <= 0 means runtime.NumCPU()). With threads == 1 every call runs
// on the calling goroutine. The micro-kernel is the one ForceKernel chose
// (LEPTON_KERNEL), else the fastest the CPU supports: AVX-512, else
// AVX2+FMA, else portable Go.
func New(threads int) *Implementation {
	return newImpl(threads, selectedKernel())
}

// newImpl is New with an explicit kernel, which must be available.
func newImpl(threads int, kern kernelID) *Implementation {
	if !kern.available() {
		panic("blas: kernel " + kern.String() + " not supported on this CPU")
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return &Implementation{threads: threads, kern: kern, live: new(atomic.Int32)}
}

// Kernel reports which Sgemm micro-kernel is in use: "avx512-fma",
// "avx2-fma" or "generic".
func (impl *Implementation) Kernel() string { return impl.kern.String() }

// Threads reports the maximum number of goroutines one Sgemm call uses.
func (impl *Implementation) Threads() int { return impl.threads }

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m dense matrix, B is a k×n or n×k dense matrix, C
// is an m×n matrix, all in row-major order, and alpha and beta are scalars.
// When beta == 0, C need not be initialised (NaNs in C are overwritten);
// when alpha == 0 or k == 0, A and B are not read. Invalid arguments panic
// with the same messages as gonum.
func (impl *Implementation) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	aT, bT := checkSgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	g := gemmArgs{aT: aT, bT: bT, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	impl.gemm(&g)
}

// scaleC computes C = beta*C, writing zeros when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// checkSgemm validates the arguments exactly as gonum does and reports
// whether A and B are transposed.
func checkSgemm(tA, tB gblas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (aT, bT bool) {
	switch tA {
	case gblas.NoTrans, gblas.Trans, gblas.ConjTrans:
	default:
		panic(badTranspose)
	}
	switch tB {
	case gblas.NoTrans, gblas.Trans, gblas.ConjTrans:
	default:
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aT = tA != gblas.NoTrans
	bT = tB != gblas.NoTrans
	if aT {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bT {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return aT, bT
	}
	if aT {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if bT {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if len(b) < (k-1)*ldb+n {
		panic(shortB)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	return aT, bT
}

// Panic messages, identical to gonum's.
const (
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badTranspose = "blas: illegal transpose"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)
