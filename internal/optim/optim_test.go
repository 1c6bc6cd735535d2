package optim

import (
	"math"
	"testing"
)

// TestAdamMatchesReference checks two Adam steps against values computed by
// hand from the update rule in Kingma & Ba (and torch.optim.Adam).
func TestAdamMatchesReference(t *testing.T) {
	opt, err := New(Settings{Name: "adam", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	p := [][]float32{{1}}
	opt.Step(p, [][]float32{{0.5}}, 0.1)
	// Step 1: m=0.05, v=0.00025, mhat=0.5, vhat=0.25 -> p -= 0.1*0.5/0.5
	if got := p[0][0]; math.Abs(float64(got)-0.9) > 1e-6 {
		t.Fatalf("after step 1: %v, want 0.9", got)
	}
	opt.Step(p, [][]float32{{-1}}, 0.1)
	m := 0.9*0.05 + 0.1*-1
	v := 0.999*0.00025 + 0.001*1
	mhat, vhat := m/(1-0.81), v/(1-0.999*0.999)
	want := 0.9 - 0.1*mhat/(math.Sqrt(vhat)+1e-8)
	if got := p[0][0]; math.Abs(float64(got)-want) > 1e-6 {
		t.Fatalf("after step 2: %v, want %v", got, want)
	}
}

func TestSGDMomentum(t *testing.T) {
	tests := []struct {
		name     string
		momentum float64
		wd       float64
		want     float32
	}{
		// p=1, g=1 twice, lr 0.1. Plain: 1-0.1-0.1.
		{name: "plain", momentum: 0, want: 0.8},
		// v1=1, v2=0.9+1=1.9: 1-0.1-0.19.
		{name: "momentum", momentum: 0.9, want: 0.71},
		// g' = g + 0.5p: step1 g'=1.5 -> p=0.85; step2 g'=1.425 -> p=0.7075.
		{name: "weight decay", wd: 0.5, want: 0.7075},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := New(Settings{Name: "sgd", Momentum: tc.momentum, WeightDecay: tc.wd}, []int{1})
			if err != nil {
				t.Fatal(err)
			}
			p := [][]float32{{1}}
			for i := 0; i < 2; i++ {
				opt.Step(p, [][]float32{{1}}, 0.1)
			}
			if math.Abs(float64(p[0][0]-tc.want)) > 1e-6 {
				t.Fatalf("p = %v, want %v", p[0][0], tc.want)
			}
		})
	}
}

// TestStateRoundTrip checks that an optimizer restored from State continues
// exactly like the original.
func TestStateRoundTrip(t *testing.T) {
	for _, name := range []string{"adam", "sgd"} {
		t.Run(name, func(t *testing.T) {
			s := Settings{Name: name, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
			a, _ := New(s, []int{3})
			pa := [][]float32{{1, 2, 3}}
			g := [][]float32{{0.1, -0.2, 0.3}}
			a.Step(pa, g, 0.01)
			b, _ := New(s, []int{3})
			if err := b.SetState(a.State()); err != nil {
				t.Fatal(err)
			}
			pb := [][]float32{append([]float32(nil), pa[0]...)}
			a.Step(pa, g, 0.01)
			b.Step(pb, g, 0.01)
			for i := range pa[0] {
				if pa[0][i] != pb[0][i] {
					t.Fatalf("restored optimizer diverged: %v vs %v", pa[0], pb[0])
				}
			}
		})
	}
	if _, err := New(Settings{Name: "rmsprop"}, nil); err == nil {
		t.Fatal("unknown optimizer accepted")
	}
}
