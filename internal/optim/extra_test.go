package optim

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6 }

// TestSGDNesterov checks two Nesterov steps computed by hand from
// torch.optim.SGD: v = mu*v + g, p -= lr*(g + mu*v).
func TestSGDNesterov(t *testing.T) {
	opt, err := New(Settings{Name: "sgd", Momentum: 0.9, Nesterov: true}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	p := [][]float32{{1}}
	// Step 1: v=1, d=1+0.9 = 1.9 -> p = 0.81.
	opt.Step(p, [][]float32{{1}}, 0.1)
	if !near(float64(p[0][0]), 0.81) {
		t.Fatalf("after step 1: %v, want 0.81", p[0][0])
	}
	// Step 2: v=0.9+1 = 1.9, d=1+0.9*1.9 = 2.71 -> p = 0.539.
	opt.Step(p, [][]float32{{1}}, 0.1)
	if !near(float64(p[0][0]), 0.539) {
		t.Fatalf("after step 2: %v, want 0.539", p[0][0])
	}
}

// TestAdamW checks two AdamW steps computed by hand from torch.optim.AdamW:
// p *= 1 - lr*wd, then the Adam update with the plain gradient.
func TestAdamW(t *testing.T) {
	opt, err := New(Settings{Name: "adamw", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	p := [][]float32{{1}}
	// Step 1: p = 1*0.99, then mhat=0.5, vhat=0.25: p -= 0.1*0.5/0.5.
	opt.Step(p, [][]float32{{0.5}}, 0.1)
	if !near(float64(p[0][0]), 0.89) {
		t.Fatalf("after step 1: %v, want 0.89", p[0][0])
	}
	opt.Step(p, [][]float32{{-1}}, 0.1)
	m := 0.9*0.05 + 0.1*-1
	v := 0.999*0.00025 + 0.001*1
	mhat, vhat := m/(1-0.81), v/(1-0.999*0.999)
	want := 0.89*0.99 - 0.1*mhat/(math.Sqrt(vhat)+1e-8)
	if !near(float64(p[0][0]), want) {
		t.Fatalf("after step 2: %v, want %v", p[0][0], want)
	}
	if st := opt.State(); st.Name != "adamw" || st.Steps != 2 {
		t.Fatalf("state %q after %d steps, want adamw after 2", st.Name, st.Steps)
	}
}

// TestAdamWWithoutDecayIsAdam checks that AdamW with no weight decay takes
// exactly Adam's steps.
func TestAdamWWithoutDecayIsAdam(t *testing.T) {
	s := Settings{Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
	s.Name = "adam"
	a, _ := New(s, []int{4})
	s.Name = "adamw"
	b, _ := New(s, []int{4})
	pa := [][]float32{{1, -2, 3, 0.5}}
	pb := [][]float32{{1, -2, 3, 0.5}}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		g := [][]float32{{r.Float32() - 0.5, r.Float32(), -r.Float32(), 0}}
		a.Step(pa, g, 0.01)
		b.Step(pb, g, 0.01)
	}
	for i := range pa[0] {
		if pa[0][i] != pb[0][i] {
			t.Fatalf("adamw without decay %v differs from adam %v", pb[0], pa[0])
		}
	}
}

// TestWeightDecay checks that every optimizer's weight decay shrinks a
// weight whose gradient is zero, and that a parameter excluded by NoDecay
// does not move.
func TestWeightDecay(t *testing.T) {
	tests := []struct {
		name string
		s    Settings
		want float64 // decayed weight after one step from 1 at lr 0.1
	}{
		{name: "sgd", s: Settings{Name: "sgd", WeightDecay: 0.5}, want: 0.95},
		{name: "sgd momentum", s: Settings{Name: "sgd", Momentum: 0.9, WeightDecay: 0.5}, want: 0.95},
		{name: "sgd nesterov", s: Settings{Name: "sgd", Momentum: 0.9, Nesterov: true, WeightDecay: 0.5}, want: 1 - 0.1*(0.5+0.9*0.5)},
		// Decoupled: 1 - lr*wd; the zero gradient adds nothing.
		{name: "adamw", s: Settings{Name: "adamw", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}, want: 0.99},
		// L2: the gradient becomes wd*p = 0.05, and Adam's first step moves
		// by lr whatever the gradient's size.
		{name: "adam", s: Settings{Name: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.5}, want: 0.9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.NoDecay = []bool{false, true}
			opt, err := New(tc.s, []int{2, 2})
			if err != nil {
				t.Fatal(err)
			}
			p := [][]float32{{1, -1}, {1, -1}}
			opt.Step(p, [][]float32{{0, 0}, {0, 0}}, 0.1)
			if !near(float64(p[0][0]), tc.want) || !near(float64(p[0][1]), -tc.want) {
				t.Errorf("decayed weights = %v, want ±%v", p[0], tc.want)
			}
			if p[1][0] != 1 || p[1][1] != -1 {
				t.Errorf("excluded weights moved: %v", p[1])
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name  string
		s     Settings
		sizes []int
	}{
		{"unknown", Settings{Name: "rmsprop"}, []int{1}},
		{"nesterov without momentum", Settings{Name: "sgd", Nesterov: true}, []int{1}},
		{"short mask", Settings{Name: "adamw", NoDecay: []bool{true}}, []int{1, 2}},
		{"long mask", Settings{Name: "sgd", NoDecay: []bool{true, false}}, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.s, tc.sizes); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestExtendedStateRoundTrip checks that AdamW and Nesterov SGD restored
// from State continue exactly like the originals, and that a state is only
// accepted by the optimizer it came from.
func TestExtendedStateRoundTrip(t *testing.T) {
	settings := []Settings{
		{Name: "adamw", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.05, NoDecay: []bool{false, true}},
		{Name: "sgd", Momentum: 0.9, Nesterov: true, WeightDecay: 0.01, NoDecay: []bool{true, false}},
	}
	for _, s := range settings {
		t.Run(s.Name, func(t *testing.T) {
			sizes := []int{3, 2}
			a, _ := New(s, sizes)
			pa := [][]float32{{1, 2, 3}, {-1, 0.5}}
			g := [][]float32{{0.1, -0.2, 0.3}, {0.4, -0.1}}
			a.Step(pa, g, 0.01)
			a.Step(pa, g, 0.01)
			b, _ := New(s, sizes)
			if err := b.SetState(a.State()); err != nil {
				t.Fatal(err)
			}
			pb := [][]float32{append([]float32(nil), pa[0]...), append([]float32(nil), pa[1]...)}
			for range 3 {
				a.Step(pa, g, 0.01)
				b.Step(pb, g, 0.01)
			}
			for i := range pa {
				for j := range pa[i] {
					if pa[i][j] != pb[i][j] {
						t.Fatalf("restored optimizer diverged: %v vs %v", pa, pb)
					}
				}
			}
		})
	}
	adam, _ := New(Settings{Name: "adam"}, []int{1})
	adamw, _ := New(Settings{Name: "adamw"}, []int{1})
	if err := adamw.SetState(adam.State()); err == nil {
		t.Fatal("adamw accepted an adam state")
	}
	if err := adam.SetState(adamw.State()); err == nil {
		t.Fatal("adam accepted an adamw state")
	}
	// A state whose second buffer is malformed leaves the optimizer as it was.
	bad := State{Name: "adam", Steps: 7, Buffers: map[string][][]float32{"m": {{5}}, "v": {{1, 2}}}}
	if err := adam.SetState(bad); err == nil {
		t.Fatal("malformed state accepted")
	}
	if st := adam.State(); st.Steps != 0 || st.Buffers["m"][0][0] != 0 {
		t.Fatalf("failed SetState changed the optimizer: %+v", st)
	}
}

func TestClipGlobalNorm(t *testing.T) {
	tests := []struct {
		name     string
		grads    [][]float32
		maxNorm  float64
		norm     float64 // returned
		clipped  bool    // whether values must change
		wantNorm float64 // norm afterwards
	}{
		{name: "clipped", grads: [][]float32{{3}, {0, 4}}, maxNorm: 1, norm: 5, clipped: true, wantNorm: 1},
		{name: "below", grads: [][]float32{{3}, {0, 4}}, maxNorm: 10, norm: 5, wantNorm: 5},
		{name: "equal", grads: [][]float32{{3}, {0, 4}}, maxNorm: 5, norm: 5, wantNorm: 5},
		{name: "disabled", grads: [][]float32{{3}, {0, 4}}, maxNorm: 0, norm: 5, wantNorm: 5},
		{name: "negative max", grads: [][]float32{{3}, {0, 4}}, maxNorm: -1, norm: 5, wantNorm: 5},
		{name: "empty", grads: nil, maxNorm: 1, norm: 0, wantNorm: 0},
		{name: "zero", grads: [][]float32{{0, 0}}, maxNorm: 1, norm: 0, wantNorm: 0},
		{name: "many", grads: randomGrads(7, []int{1000, 37, 5}, 3), maxNorm: 0.5, norm: -1, clipped: true, wantNorm: 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := clone(tc.grads)
			before := GlobalNorm(tc.grads)
			got, err := ClipGlobalNorm(tc.grads, tc.maxNorm)
			if err != nil {
				t.Fatal(err)
			}
			if got != before || (tc.norm >= 0 && !near(got, tc.norm)) {
				t.Fatalf("returned norm %v, want %v (norm before %v)", got, tc.norm, before)
			}
			after := GlobalNorm(tc.grads)
			if tc.clipped {
				if after > tc.maxNorm || after < tc.maxNorm*(1-1e-6) {
					t.Fatalf("norm after clipping %v, want at most and within 1e-6 of %v", after, tc.maxNorm)
				}
				// The direction is kept: every value is scaled by one factor.
				k := tc.maxNorm / before
				for i := range orig {
					for j := range orig[i] {
						if math.Abs(float64(tc.grads[i][j])-k*float64(orig[i][j])) > 1e-6*math.Abs(k*float64(orig[i][j]))+1e-12 {
							t.Fatalf("grad[%d][%d] = %v, want %v", i, j, tc.grads[i][j], k*float64(orig[i][j]))
						}
					}
				}
				return
			}
			for i := range orig {
				for j := range orig[i] {
					if tc.grads[i][j] != orig[i][j] {
						t.Fatalf("grads changed without clipping: %v -> %v", orig, tc.grads)
					}
				}
			}
			if !near(after, tc.wantNorm) {
				t.Fatalf("norm %v, want %v", after, tc.wantNorm)
			}
		})
	}
}

// TestClipGlobalNormBound checks on many random gradients that the clipped
// norm never exceeds the bound, despite float32 rounding.
func TestClipGlobalNormBound(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 300 {
		g := randomGrads(uint64(i), []int{1 + r.IntN(300), 1 + r.IntN(7)}, float32(r.Float64()*100))
		maxNorm := r.Float64() * GlobalNorm(g)
		if _, err := ClipGlobalNorm(g, maxNorm); err != nil {
			t.Fatal(err)
		}
		if after := GlobalNorm(g); after > maxNorm {
			t.Fatalf("case %d: clipped norm %v exceeds %v", i, after, maxNorm)
		}
	}
}

// TestClipGlobalNormNonFinite checks that gradients holding NaN or ±Inf
// are an error and left as they are, with clipping on or off (the loop then
// stops instead of applying them).
func TestClipGlobalNormNonFinite(t *testing.T) {
	tests := []struct {
		name    string
		bad     float32
		maxNorm float64
	}{
		{name: "NaN", bad: float32(math.NaN()), maxNorm: 1},
		{name: "+Inf", bad: float32(math.Inf(1)), maxNorm: 1},
		{name: "-Inf", bad: float32(math.Inf(-1)), maxNorm: 1},
		{name: "NaN, huge bound", bad: float32(math.NaN()), maxNorm: 1e30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := [][]float32{{1, tc.bad}, {2}}
			norm, err := ClipGlobalNorm(g, tc.maxNorm)
			if !errors.Is(err, ErrNonFinite) {
				t.Fatalf("error %v, want ErrNonFinite", err)
			}
			if !math.IsNaN(norm) && !math.IsInf(norm, 0) {
				t.Fatalf("norm of %v = %v, want non-finite", g, norm)
			}
			if g[0][0] != 1 || g[1][0] != 2 {
				t.Fatalf("non-finite gradients were scaled: %v", g)
			}
		})
	}
}

func randomGrads(seed uint64, sizes []int, scale float32) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	out := make([][]float32, len(sizes))
	for i, n := range sizes {
		out[i] = make([]float32, n)
		for j := range out[i] {
			out[i][j] = scale * float32(r.NormFloat64())
		}
	}
	return out
}

func clone(g [][]float32) [][]float32 {
	out := make([][]float32, len(g))
	for i := range g {
		out[i] = append([]float32(nil), g[i]...)
	}
	return out
}
