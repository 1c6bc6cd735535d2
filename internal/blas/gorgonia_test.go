package blas

import (
	"math"
	"math/rand"
	"sync"
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// recorder wraps an Implementation and records the transpose flags of every
// Sgemm call, to check that Gorgonia really routes its products through it.
type recorder struct {
	*Implementation
	mu    sync.Mutex
	calls map[string]int
}

func (r *recorder) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	r.mu.Lock()
	r.calls[string([]byte{byte(tA), byte(tB)})]++
	r.mu.Unlock()
	r.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// graphResult holds x·W and the gradients of sum(x·W) w.r.t. x and W.
type graphResult struct {
	xw, dx, dw []float32
}

// runGraph evaluates x·W and the gradient of sum(x·W) with the given BLAS.
func runGraph(t *testing.T, b gorgonia.BLAS, m, k, n int, xv, wv []float32) graphResult {
	t.Helper()
	gorgonia.Use(b)
	defer gorgonia.Use(gonum.Implementation{})

	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(m, k), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(m, k), tensor.WithBacking(append([]float32(nil), xv...)))))
	w := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(k, n), gorgonia.WithName("W"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(k, n), tensor.WithBacking(append([]float32(nil), wv...)))))
	xw, err := gorgonia.Mul(x, w)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := gorgonia.Sum(xw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gorgonia.Grad(cost, x, w); err != nil {
		t.Fatal(err)
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	grad := func(n *gorgonia.Node) []float32 {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), gv.Data().([]float32)...)
	}
	return graphResult{
		xw: append([]float32(nil), xw.Value().Data().([]float32)...),
		dx: grad(x),
		dw: grad(w),
	}
}

func TestGorgoniaMatMulAndGradient(t *testing.T) {
	tests := []struct {
		name    string
		threads int
		m, k, n int
	}{
		{name: "tiny-4x5x3", threads: 1, m: 4, k: 5, n: 3},
		{name: "edges-37x300x19", threads: 1, m: 37, k: 300, n: 19},
		{name: "mlp-layer-128x3072x128", threads: 1, m: 128, k: 3072, n: 128},
		{name: "mlp-layer-128x3072x128-t2", threads: 2, m: 128, k: 3072, n: 128},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.m*tc.k*tc.n > 1<<20 {
				t.Skip("large graph in -short mode")
			}
			rng := rand.New(rand.NewSource(11))
			xv := make([]float32, tc.m*tc.k)
			wv := make([]float32, tc.k*tc.n)
			for i := range xv {
				xv[i] = rng.Float32()*2 - 1
			}
			for i := range wv {
				wv[i] = rng.Float32()*2 - 1
			}
			rec := &recorder{Implementation: New(tc.threads), calls: map[string]int{}}
			want := runGraph(t, gonum.Implementation{}, tc.m, tc.k, tc.n, xv, wv)
			got := runGraph(t, rec, tc.m, tc.k, tc.n, xv, wv)

			t.Logf("Sgemm calls by transpose flags: %v", rec.calls)
			if rec.calls["NN"] == 0 {
				t.Errorf("forward product did not call Sgemm(NoTrans, NoTrans): %v", rec.calls)
			}
			if rec.calls["NT"]+rec.calls["TN"] == 0 {
				t.Errorf("gradient did not call a transposed Sgemm: %v", rec.calls)
			}
			// sum(x·W): d/dx = 1·Wᵀ (row sums of W), d/dW = xᵀ·1 (column sums of x).
			for i := 0; i < tc.m; i++ {
				for l := 0; l < tc.k; l++ {
					var s float64
					for j := 0; j < tc.n; j++ {
						s += float64(wv[l*tc.n+j])
					}
					if d := math.Abs(float64(got.dx[i*tc.k+l]) - s); d > 1e-5*float64(tc.n) {
						t.Fatalf("dx[%d,%d] = %v, want %v", i, l, got.dx[i*tc.k+l], s)
					}
				}
			}
			compare := func(what string, got, want []float32, k int) {
				t.Helper()
				if len(got) != len(want) {
					t.Fatalf("%s: %d values, gonum gives %d", what, len(got), len(want))
				}
				for i := range got {
					tol := 1e-5 * float64(k) * (1 + math.Abs(float64(want[i])))
					if d := math.Abs(float64(got[i] - want[i])); d > tol {
						t.Fatalf("%s[%d] = %v, gonum gives %v", what, i, got[i], want[i])
					}
				}
			}
			compare("x·W", got.xw, want.xw, tc.k)
			compare("dx", got.dx, want.dx, tc.n)
			compare("dW", got.dw, want.dw, tc.m)
		})
	}
}
