// Package optim holds lepton's optimizers. They update parameters in place
// from gradients computed by Gorgonia, and their whole state (moments, step
// count) is exported so that checkpoints can restore it exactly.
package optim

import (
	"fmt"
	"math"
)

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	// Step applies one update with learning rate lr. params and grads are
	// aligned slices of equal lengths.
	Step(params, grads [][]float32, lr float64)
	// State returns the optimizer's state for a checkpoint.
	State() State
	// SetState restores a state returned by State.
	SetState(State) error
}

// State is an optimizer's complete state: its name, the number of steps
// taken and its named buffers (one slice per parameter for each buffer).
type State struct {
	Name    string
	Steps   int64
	Buffers map[string][][]float32
}

// Settings configure an optimizer.
type Settings struct {
	Name        string // "adam" or "sgd"
	Momentum    float64
	Beta1       float64
	Beta2       float64
	Eps         float64
	WeightDecay float64 // L2 penalty added to the gradient
}

// New returns the optimizer named by s for parameters of the given sizes.
func New(s Settings, sizes []int) (Optimizer, error) {
	switch s.Name {
	case "adam":
		return &Adam{Beta1: s.Beta1, Beta2: s.Beta2, Eps: s.Eps, WeightDecay: s.WeightDecay, m: zeros(sizes), v: zeros(sizes)}, nil
	case "sgd":
		return &SGD{Momentum: s.Momentum, WeightDecay: s.WeightDecay, velocity: zeros(sizes)}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (want adam or sgd)", s.Name)
}

func zeros(sizes []int) [][]float32 {
	out := make([][]float32, len(sizes))
	for i, n := range sizes {
		out[i] = make([]float32, n)
	}
	return out
}

// Adam is the Adam optimizer (Kingma & Ba) with bias correction, as in
// PyTorch's torch.optim.Adam; WeightDecay adds an L2 term to the gradient.
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay float64

	steps int64
	m, v  [][]float32
}

// Step implements Optimizer.
func (a *Adam) Step(params, grads [][]float32, lr float64) {
	a.steps++
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	c1 := 1 - math.Pow(a.Beta1, float64(a.steps))
	c2 := 1 - math.Pow(a.Beta2, float64(a.steps))
	stepSize := float32(lr / c1)
	sqrtC2 := float32(math.Sqrt(c2))
	eps := float32(a.Eps)
	wd := float32(a.WeightDecay)
	for i, p := range params {
		g, m, v := grads[i], a.m[i], a.v[i]
		_ = g[len(p)-1]
		_ = m[len(p)-1]
		_ = v[len(p)-1]
		for j := range p {
			gj := g[j] + wd*p[j]
			m[j] = b1*m[j] + (1-b1)*gj
			v[j] = b2*v[j] + (1-b2)*gj*gj
			denom := float32(math.Sqrt(float64(v[j])))/sqrtC2 + eps
			p[j] -= stepSize * m[j] / denom
		}
	}
}

// State implements Optimizer.
func (a *Adam) State() State {
	return State{Name: "adam", Steps: a.steps, Buffers: map[string][][]float32{"m": a.m, "v": a.v}}
}

// SetState implements Optimizer.
func (a *Adam) SetState(s State) error {
	if s.Name != "adam" {
		return fmt.Errorf("optimizer state is for %q, not adam", s.Name)
	}
	if err := copyBuffers(a.m, s.Buffers["m"], "m"); err != nil {
		return err
	}
	if err := copyBuffers(a.v, s.Buffers["v"], "v"); err != nil {
		return err
	}
	a.steps = s.Steps
	return nil
}

// SGD is stochastic gradient descent with (heavy-ball) momentum, as in
// PyTorch's torch.optim.SGD; WeightDecay adds an L2 term to the gradient.
type SGD struct {
	Momentum, WeightDecay float64

	steps    int64
	velocity [][]float32
}

// Step implements Optimizer.
func (s *SGD) Step(params, grads [][]float32, lr float64) {
	s.steps++
	mu, wd, rate := float32(s.Momentum), float32(s.WeightDecay), float32(lr)
	for i, p := range params {
		g, vel := grads[i], s.velocity[i]
		for j := range p {
			gj := g[j] + wd*p[j]
			if mu != 0 {
				if s.steps == 1 {
					vel[j] = gj
				} else {
					vel[j] = mu*vel[j] + gj
				}
				gj = vel[j]
			}
			p[j] -= rate * gj
		}
	}
}

// State implements Optimizer.
func (s *SGD) State() State {
	return State{Name: "sgd", Steps: s.steps, Buffers: map[string][][]float32{"velocity": s.velocity}}
}

// SetState implements Optimizer.
func (s *SGD) SetState(st State) error {
	if st.Name != "sgd" {
		return fmt.Errorf("optimizer state is for %q, not sgd", st.Name)
	}
	if err := copyBuffers(s.velocity, st.Buffers["velocity"], "velocity"); err != nil {
		return err
	}
	s.steps = st.Steps
	return nil
}

func copyBuffers(dst, src [][]float32, name string) error {
	if len(dst) != len(src) {
		return fmt.Errorf("optimizer buffer %s has %d tensors, want %d", name, len(src), len(dst))
	}
	for i := range dst {
		if len(dst[i]) != len(src[i]) {
			return fmt.Errorf("optimizer buffer %s[%d] has %d values, want %d", name, i, len(src[i]), len(dst[i]))
		}
		copy(dst[i], src[i])
	}
	return nil
}
