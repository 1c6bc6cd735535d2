package model_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"github.com/lepton-cli/lepton/internal/blas"
)

// This file holds what the step and GEMM benchmarks share: the kernels and
// thread counts they run, the FLOP peak they compare with, and a BLAS that
// records the matrix products Gorgonia asks for.

// benchKernels are the LEPTON_KERNEL values the benchmarks run, fastest first.
var benchKernels = []string{"avx512", "avx2"}

// benchThreads are the thread counts the benchmarks run.
var benchThreads = []int{1, 2}

// flopsPerCycle is the float32 FLOPs one core retires per cycle with the
// kernel's FMA instructions, assuming two FMA pipes of the kernel's width
// (true of Zen 4/5, Ice Lake and later Xeons, Haswell and later for AVX2):
// AVX-512: 2 pipes x 16 lanes x 2 FLOPs = 64; AVX2: 2 x 8 x 2 = 32.
var flopsPerCycle = map[string]float64{blas.KernelAVX512FMA: 64, blas.KernelAVX2FMA: 32, blas.KernelGeneric: 0}

// EnvBenchMHz overrides the core frequency the %peak metric assumes.
const EnvBenchMHz = "LEPTON_BENCH_MHZ"

var (
	mhzOnce sync.Once
	mhz     float64
)

// coreMHz is the frequency of one core in MHz: LEPTON_BENCH_MHZ, else a
// calibration (calibrateMHz), else the first "cpu MHz" of /proc/cpuinfo
// (on a VM usually the nominal clock, below what a boosting core runs at).
// It prints the assumption once, as a "# peak-assumption:" comment line
// (benchstat ignores it; a "key: value" label that differs between two
// files would keep benchstat from comparing them).
func coreMHz() float64 {
	mhzOnce.Do(func() {
		how := EnvBenchMHz
		if v, err := strconv.ParseFloat(os.Getenv(EnvBenchMHz), 64); err == nil && v > 0 {
			mhz = v
		} else if mhz, how = calibrateMHz(), "calibrated"; mhz <= 0 {
			mhz, how = cpuinfoMHz(), "/proc/cpuinfo"
		}
		fmt.Printf("# peak-assumption: %.0f MHz (%s; /proc/cpuinfo %.0f) x cores x FLOP/cycle (avx512-fma 64, avx2-fma 32)\n", mhz, how, cpuinfoMHz())
	})
	return mhz
}

// cpuinfoMHz is the first "cpu MHz" of /proc/cpuinfo, or 0.
func cpuinfoMHz() float64 {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "cpu MHz" {
			v, _ := strconv.ParseFloat(strings.TrimSpace(val), 64)
			return v
		}
	}
	return 0
}

// addChain runs n iterations of a chain of 8 dependent integer operations
// (XOR and ADD of constants, one cycle of latency each on every x86 core
// since the Pentium 4): about 8n cycles, the loop counter running beside it.
//
//go:noinline
func addChain(n int, x uint64) uint64 {
	for i := 0; i < n; i++ {
		x = ((((((((x ^ 0x9e37) + 0x7f4a) ^ 0x1234) + 0x5555) ^ 0x0f0f) + 0x3333) ^ 0x7777) + 0x1111)
	}
	return x
}

// calibrateMHz measures the core's clock from addChain: the fastest of 200
// runs of about 0.5 ms, in MHz (a run that another process preempted is
// slower, so the fastest is the clock), but at least /proc/cpuinfo's
// nominal clock. It returns 0 on other architectures, where the one-cycle
// latency is not assumed.
func calibrateMHz() float64 {
	if runtime.GOARCH != "amd64" {
		return 0
	}
	const n = 250_000
	best := 0.0
	var sink uint64
	for r := 0; r < 200; r++ {
		t := time.Now()
		sink += addChain(n, uint64(r))
		if d := time.Since(t).Seconds(); r >= 20 && d > 0 { // the first runs warm the core up
			best = max(best, 8*n/d/1e6)
		}
	}
	if sink == 1 { // keep the results alive
		best++
	}
	return max(best, cpuinfoMHz())
}

// peakGFLOPS is the FLOP peak of threads cores (at most NumCPU) running
// kernel at coreMHz, or 0 when unknown.
func peakGFLOPS(kernel string, threads int) float64 {
	cores := min(threads, runtime.NumCPU())
	return float64(cores) * coreMHz() / 1e3 * flopsPerCycle[kernel]
}

// reportFLOPs reports GFLOP/s and percent of the peak for flopsPerOp
// floating-point operations per benchmark iteration.
func reportFLOPs(b *testing.B, flopsPerOp float64, kernel string, threads int) {
	gflops := flopsPerOp * float64(b.N) / b.Elapsed().Seconds() / 1e9
	b.ReportMetric(gflops, "GFLOP/s")
	if peak := peakGFLOPS(kernel, threads); peak > 0 {
		b.ReportMetric(100*gflops/peak, "%peak")
	}
}

// useKernel forces kernel (a LEPTON_KERNEL value) and installs lepton's
// BLAS with threads under Gorgonia, returning the kernel's reported name.
// A kernel this CPU lacks skips the benchmark ("not available"). The
// cleanup restores the best kernel and gonum's BLAS (Gorgonia's default).
func useKernel(b *testing.B, kernel string, threads int) (*blas.Implementation, string) {
	b.Helper()
	name, err := blas.ForceKernel(kernel)
	if err != nil {
		b.Skipf("not available: %v", err)
	}
	b.Cleanup(func() {
		if _, err := blas.ForceKernel(""); err != nil {
			b.Error(err)
		}
		G.Use(gonum.Implementation{})
	})
	impl := blas.New(threads)
	G.Use(impl)
	return impl, name
}

// gemmCall is one Sgemm call: C (m x n) = alpha*op(A)*op(B) + beta*C with
// op(A) m x k and op(B) k x n, row-major with leading dimensions lda, ldb, ldc.
type gemmCall struct {
	tA, tB        gblas.Transpose
	m, n, k       int
	lda, ldb, ldc int
	alpha, beta   float32
}

// flops is the call's floating-point operation count, 2mnk.
func (c gemmCall) flops() float64 { return 2 * float64(c.m) * float64(c.n) * float64(c.k) }

// name is the call's benchmark name: transposes of A and B (N or T) and
// m x n x k, e.g. "TN-3072x128x128" for dW = Xᵀ·dY of a 3072-128 layer.
func (c gemmCall) name() string {
	t := func(x gblas.Transpose) string {
		if x == gblas.NoTrans {
			return "N"
		}
		return "T"
	}
	return t(c.tA) + t(c.tB) + "-" + strconv.Itoa(c.m) + "x" + strconv.Itoa(c.n) + "x" + strconv.Itoa(c.k)
}

// recorder is lepton's BLAS that notes every Sgemm call.
type recorder struct {
	*blas.Implementation
	calls []gemmCall
}

// Sgemm records the call and runs it.
func (r *recorder) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	r.calls = append(r.calls, gemmCall{tA: tA, tB: tB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, alpha: alpha, beta: beta})
	r.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
