package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func tinySpec(act string) Spec {
	return Spec{Input: 5, Hidden: []int{4, 3}, Classes: 3, Activation: act, LeakySlope: 0.1, Init: "glorot"}
}

// lossAt runs a fresh forward pass and returns the loss.
func lossAt(t *testing.T, net *Net) float64 {
	t.Helper()
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Loss()
	if err != nil {
		t.Fatal(err)
	}
	return float64(l)
}

// TestGradientsMatchFiniteDifferences checks Gorgonia's autodiff gradients of
// the whole MLP against central finite differences, for every activation.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, act := range Activations {
		t.Run(act, func(t *testing.T) {
			spec := tinySpec(act)
			p, err := NewParams(spec, 7)
			if err != nil {
				t.Fatal(err)
			}
			// Non-zero biases so every path is exercised.
			rng := rand.New(rand.NewPCG(1, 2))
			for _, l := range p.Layers {
				for i := range l.B {
					l.B[i] = float32(rng.NormFloat64() * 0.1)
				}
			}
			net, err := NewTrainer(spec, p, 2)
			if err != nil {
				t.Fatal(err)
			}
			defer net.Close()
			for i := range net.Input() {
				net.Input()[i] = float32(rng.NormFloat64())
			}
			copy(net.Targets(), []float32{0, 1, 0, 0.1, 0.1, 0.8})
			lossAt(t, net)
			grads, err := net.Grads()
			if err != nil {
				t.Fatal(err)
			}
			snapshot := make([][]float32, len(grads))
			for i, g := range grads {
				snapshot[i] = append([]float32(nil), g...)
			}
			const h = 1e-2
			for pi, s := range p.Slices() {
				for j := range s {
					orig := s[j]
					s[j] = orig + h
					up := lossAt(t, net)
					s[j] = orig - h
					down := lossAt(t, net)
					s[j] = orig
					num := (up - down) / (2 * h)
					if got := float64(snapshot[pi][j]); math.Abs(got-num) > 2e-3+2e-2*math.Abs(num) {
						t.Errorf("param %d[%d]: autodiff %.6f, finite difference %.6f", pi, j, got, num)
					}
				}
			}
		})
	}
}

// TestLossFiniteForHugeLogits drives the whole graph so that its logits
// reach about ±1e4 and checks the loss and gradients stay finite.
func TestLossFiniteForHugeLogits(t *testing.T) {
	spec := Spec{Input: 2, Hidden: nil, Classes: 3, Activation: "relu", Init: "he"}
	p, err := NewParams(spec, 1)
	if err != nil {
		t.Fatal(err)
	}
	// logits = x·W: with x = (1, 0) the logits are W's first row.
	copy(p.Layers[0].W, []float32{1e4, -1e4, 0, 0, 0, 0})
	net, err := NewTrainer(spec, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	copy(net.Input(), []float32{1, 0})
	for _, label := range []int{0, 1, 2} {
		clear(net.Targets())
		net.Targets()[label] = 1
		loss := lossAt(t, net)
		want := []float64{0, 2e4, 1e4}[label]
		if math.IsNaN(loss) || math.IsInf(loss, 0) || math.Abs(loss-want) > 1 {
			t.Errorf("label %d: loss %v, want %v", label, loss, want)
		}
		grads, err := net.Grads()
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range grads {
			for _, v := range g {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("label %d: non-finite gradient %v", label, g)
				}
			}
		}
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	spec := tinySpec("relu")
	p, err := NewParams(spec, 3)
	if err != nil {
		t.Fatal(err)
	}
	named := p.Export()
	byName := map[string]Named{}
	for _, n := range named {
		byName[n.Name] = n
	}
	if got := byName["layers.0.weight"].Shape; got[0] != 4 || got[1] != 5 {
		t.Fatalf("layers.0.weight shape %v, want [4 5]", got)
	}
	// PyTorch layout: weight[out][in] == W[in][out].
	if got, want := byName["layers.0.weight"].Data[1*5+2], p.Layers[0].W[2*4+1]; got != want {
		t.Fatalf("transposed element %v, want %v", got, want)
	}
	q, err := Import(spec, func(name string) ([]int, []float32, error) {
		n := byName[name]
		return n.Shape, n.Data, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Slices() {
		for j, v := range p.Slices()[i] {
			if q.Slices()[i][j] != v {
				t.Fatalf("slice %d[%d] = %v, want %v", i, j, q.Slices()[i][j], v)
			}
		}
	}
	wrong := tinySpec("relu")
	wrong.Hidden = []int{6, 3}
	if _, err := Import(wrong, func(name string) ([]int, []float32, error) {
		n := byName[name]
		return n.Shape, n.Data, nil
	}); err == nil {
		t.Fatal("Import accepted tensors of the wrong shape")
	}
}

// TestPredictorSharesParams checks that in-place parameter updates reach an
// already built graph.
func TestPredictorSharesParams(t *testing.T) {
	spec := Spec{Input: 2, Classes: 2, Activation: "relu", Init: "he"}
	p, _ := NewParams(spec, 1)
	net, err := NewPredictor(spec, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	copy(net.Input(), []float32{1, 2})
	copy(p.Layers[0].W, []float32{1, 0, 0, 1})
	copy(p.Layers[0].B, []float32{10, 20})
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	logits, _ := net.Logits()
	if logits[0] != 11 || logits[1] != 22 {
		t.Fatalf("logits %v, want [11 22]", logits)
	}
	p.Layers[0].B[0] = 0
	if err := net.Run(); err != nil {
		t.Fatal(err)
	}
	logits, _ = net.Logits()
	if logits[0] != 1 {
		t.Fatalf("after update logits %v, want [1 22]", logits)
	}
}

// TestUseInputRebinds checks that a graph reads a rebound input buffer.
func TestUseInputRebinds(t *testing.T) {
	spec := Spec{Input: 2, Classes: 2, Activation: "relu", Init: "he"}
	p, _ := NewParams(spec, 1)
	copy(p.Layers[0].W, []float32{1, 0, 0, 1})
	for _, train := range []bool{false, true} {
		var net *Net
		var err error
		if train {
			net, err = NewTrainer(spec, p, 1)
		} else {
			net, err = NewPredictor(spec, p, 1)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range [][]float32{{3, 4}, {5, 6}} {
			if err := net.UseInput(x); err != nil {
				t.Fatal(err)
			}
			if err := net.Run(); err != nil {
				t.Fatal(err)
			}
			logits, _ := net.Logits()
			if logits[0] != x[0] || logits[1] != x[1] {
				t.Fatalf("train=%v: logits %v for input %v", train, logits, x)
			}
		}
		if err := net.UseInput([]float32{1}); err == nil {
			t.Fatal("UseInput accepted a short buffer")
		}
		net.Close()
	}
}
