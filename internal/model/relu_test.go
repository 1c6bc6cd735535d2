package model

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestBiasReLUMatchesGorgonia checks relu and biasReLU, forward and
// backward, bit for bit against G.Rectify(G.BroadcastAdd(x, b)), with
// ±0, infinities and NaN among the values.
func TestBiasReLUMatchesGorgonia(t *testing.T) {
	nan, inf, negz := float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1))
	xv := []float32{1, -2, 0, negz, 3.5, -inf, inf, nan, -1e-30, 2, -0.5, 0.25}
	bv := []float32{0, negz, 0.5, -1, 1e-30, -2}
	gv := []float32{1, 2, -3, 4, -5, 6, 7, -8, 9, nan, 1, -1}
	run := func(fused bool) [][]float32 {
		g := G.NewGraph()
		x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 6), G.WithName("x"),
			G.WithValue(tensor.New(tensor.WithShape(2, 6), tensor.WithBacking(append([]float32(nil), xv...)))))
		b := G.NewMatrix(g, tensor.Float32, G.WithShape(1, 6), G.WithName("b"),
			G.WithValue(tensor.New(tensor.WithShape(1, 6), tensor.WithBacking(append([]float32(nil), bv...)))))
		gr := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 6), G.WithName("g"),
			G.WithValue(tensor.New(tensor.WithShape(2, 6), tensor.WithBacking(append([]float32(nil), gv...)))))
		var y, plain *G.Node
		var err error
		if fused {
			y, err = biasReLU(x, b)
			if err == nil {
				plain, err = relu(x)
			}
		} else {
			var z *G.Node
			if z, err = G.BroadcastAdd(x, b, nil, []byte{0}); err == nil {
				if y, err = G.Rectify(z); err == nil {
					plain, err = G.Rectify(x)
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		// A loss whose gradient of y is gr: sum(y ⊙ g), and likewise for plain.
		var loss, l2 *G.Node
		if loss, err = G.HadamardProd(y, gr); err == nil {
			if loss, err = G.Sum(loss); err == nil {
				if l2, err = G.HadamardProd(plain, gr); err == nil {
					if l2, err = G.Sum(l2); err == nil {
						loss, err = G.Add(loss, l2)
					}
				}
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		grads, err := G.Grad(loss, x, b)
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		defer vm.Close()
		for range 2 { // the second run reuses the registers
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			vm.Reset()
		}
		var out [][]float32
		for _, n := range []*G.Node{y, plain, grads[0], grads[1]} {
			s, err := float32s(n.Value())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, append([]float32(nil), s...))
		}
		return out
	}
	want, got := run(false), run(true)
	for k, name := range []string{"relu(x+b)", "relu(x)", "dx", "db"} {
		if len(got[k]) != len(want[k]) {
			t.Fatalf("%s: %d values, want %d", name, len(got[k]), len(want[k]))
		}
		for i := range want[k] {
			if math.Float32bits(got[k][i]) != math.Float32bits(want[k][i]) {
				t.Errorf("%s[%d] = %v (%#x), want %v (%#x)", name, i, got[k][i], math.Float32bits(got[k][i]), want[k][i], math.Float32bits(want[k][i]))
			}
		}
	}
}
