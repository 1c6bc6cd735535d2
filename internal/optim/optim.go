// Package optim holds lepton's optimizers (SGD with heavy-ball or Nesterov
// momentum, Adam, AdamW) and gradient clipping by global norm. Optimizers
// update parameters in place from gradients computed by Gorgonia, and their
// whole state (moments, step count) is exported so that checkpoints can
// restore it exactly.
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
	// Name is "adam", "adamw" or "sgd".
	Name string
	// Momentum is SGD's momentum factor (0 = none).
	Momentum float64
	// Nesterov makes SGD use Nesterov momentum; it needs Momentum > 0.
	Nesterov bool
	// Beta1 and Beta2 are Adam's and AdamW's moment decay rates.
	Beta1, Beta2 float64
	// Eps is Adam's and AdamW's denominator term.
	Eps float64
	// WeightDecay is an L2 penalty added to the gradient for adam and sgd,
	// and the decoupled decay rate for adamw (each step multiplies the
	// parameter by 1 - lr*WeightDecay).
	WeightDecay float64
	// NoDecay, if not nil, is aligned with the parameters: a true entry
	// exempts that parameter from weight decay (typically biases and
	// normalization parameters).
	NoDecay []bool
}

// New returns the optimizer named by s for parameters of the given sizes.
// It fails on an unknown name, on Nesterov without momentum and on a NoDecay
// mask whose length differs from len(sizes).
func New(s Settings, sizes []int) (Optimizer, error) {
	var noDecay []bool
	if s.NoDecay != nil {
		if len(s.NoDecay) != len(sizes) {
			return nil, fmt.Errorf("optimizer %s: weight-decay mask has %d entries for %d parameters", s.Name, len(s.NoDecay), len(sizes))
		}
		noDecay = append([]bool(nil), s.NoDecay...)
	}
	switch s.Name {
	case "adam", "adamw":
		return &Adam{Beta1: s.Beta1, Beta2: s.Beta2, Eps: s.Eps, WeightDecay: s.WeightDecay, Decoupled: s.Name == "adamw", NoDecay: noDecay, m: zeros(sizes), v: zeros(sizes)}, nil
	case "sgd":
		if s.Nesterov && s.Momentum <= 0 {
			return nil, fmt.Errorf("optimizer sgd: nesterov needs momentum > 0, got %v", s.Momentum)
		}
		return &SGD{Momentum: s.Momentum, Nesterov: s.Nesterov, WeightDecay: s.WeightDecay, NoDecay: noDecay, velocity: zeros(sizes)}, nil
	}
	return nil, fmt.Errorf("unknown optimizer %q (want adam, adamw or sgd)", s.Name)
}

// decays reports whether parameter i is subject to weight decay under the
// mask noDecay (nil = all are).
func decays(noDecay []bool, i int) bool {
	return noDecay == nil || !noDecay[i]
}

func zeros(sizes []int) [][]float32 {
	out := make([][]float32, len(sizes))
	for i, n := range sizes {
		out[i] = make([]float32, n)
	}
	return out
}

// Adam is the Adam optimizer (Kingma & Ba) with bias correction, as in
// PyTorch's torch.optim.Adam: WeightDecay adds an L2 term to the gradient.
// With Decoupled set it is AdamW (Loshchilov & Hutter), as in
// torch.optim.AdamW: each step first multiplies the parameter by
// 1 - lr*WeightDecay, then applies the Adam update to the plain gradient.
type Adam struct {
	Beta1, Beta2, Eps, WeightDecay float64
	// Decoupled selects AdamW's decoupled weight decay; its state is named
	// "adamw" instead of "adam".
	Decoupled bool
	// NoDecay, if not nil, exempts the parameters whose entry is true from
	// weight decay. It must be aligned with the parameters.
	NoDecay []bool

	steps int64
	m, v  [][]float32
}

func (a *Adam) name() string {
	if a.Decoupled {
		return "adamw"
	}
	return "adam"
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
	for i, p := range params {
		if len(p) == 0 {
			continue
		}
		g, m, v := grads[i], a.m[i], a.v[i]
		_ = g[len(p)-1]
		_ = m[len(p)-1]
		_ = v[len(p)-1]
		var wd float32 // L2 coefficient
		shrink := float32(1)
		if decays(a.NoDecay, i) {
			if a.Decoupled {
				shrink = float32(1 - lr*a.WeightDecay)
			} else {
				wd = float32(a.WeightDecay)
			}
		}
		for j := range p {
			p[j] *= shrink
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
	return State{Name: a.name(), Steps: a.steps, Buffers: map[string][][]float32{"m": a.m, "v": a.v}}
}

// SetState implements Optimizer. It fails, leaving a unchanged, if s is
// for another optimizer or its buffers do not match the parameters.
func (a *Adam) SetState(s State) error {
	if s.Name != a.name() {
		return fmt.Errorf("optimizer state is for %q, not %s", s.Name, a.name())
	}
	if err := checkBuffers(a.m, s.Buffers["m"], "m"); err != nil {
		return err
	}
	if err := checkBuffers(a.v, s.Buffers["v"], "v"); err != nil {
		return err
	}
	copyBuffers(a.m, s.Buffers["m"])
	copyBuffers(a.v, s.Buffers["v"])
	a.steps = s.Steps
	return nil
}

// SGD is stochastic gradient descent with momentum, as in PyTorch's
// torch.optim.SGD (no dampening): heavy-ball momentum, or Nesterov momentum
// if Nesterov is set. WeightDecay adds an L2 term to the gradient.
type SGD struct {
	Momentum, WeightDecay float64
	// Nesterov uses the Nesterov update p -= lr*(g + Momentum*v) instead of
	// p -= lr*v, where v is the updated velocity.
	Nesterov bool
	// NoDecay, if not nil, exempts the parameters whose entry is true from
	// weight decay. It must be aligned with the parameters.
	NoDecay []bool

	steps    int64
	velocity [][]float32
}

// Step implements Optimizer.
func (s *SGD) Step(params, grads [][]float32, lr float64) {
	s.steps++
	mu, rate := float32(s.Momentum), float32(lr)
	for i, p := range params {
		g, vel := grads[i], s.velocity[i]
		var wd float32
		if decays(s.NoDecay, i) {
			wd = float32(s.WeightDecay)
		}
		for j := range p {
			gj := g[j] + wd*p[j]
			if mu != 0 {
				if s.steps == 1 {
					vel[j] = gj
				} else {
					vel[j] = mu*vel[j] + gj
				}
				if s.Nesterov {
					gj += mu * vel[j]
				} else {
					gj = vel[j]
				}
			}
			p[j] -= rate * gj
		}
	}
}

// State implements Optimizer.
func (s *SGD) State() State {
	return State{Name: "sgd", Steps: s.steps, Buffers: map[string][][]float32{"velocity": s.velocity}}
}

// SetState implements Optimizer. It fails, leaving s unchanged, if st is
// for another optimizer or its buffers do not match the parameters.
func (s *SGD) SetState(st State) error {
	if st.Name != "sgd" {
		return fmt.Errorf("optimizer state is for %q, not sgd", st.Name)
	}
	if err := checkBuffers(s.velocity, st.Buffers["velocity"], "velocity"); err != nil {
		return err
	}
	copyBuffers(s.velocity, st.Buffers["velocity"])
	s.steps = st.Steps
	return nil
}

// checkBuffers reports whether src has the shape of dst.
func checkBuffers(dst, src [][]float32, name string) error {
	if len(dst) != len(src) {
		return fmt.Errorf("optimizer buffer %s has %d tensors, want %d", name, len(src), len(dst))
	}
	for i := range dst {
		if len(dst[i]) != len(src[i]) {
			return fmt.Errorf("optimizer buffer %s[%d] has %d values, want %d", name, i, len(src[i]), len(dst[i]))
		}
	}
	return nil
}

// copyBuffers copies src into dst, which checkBuffers accepted.
func copyBuffers(dst, src [][]float32) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}
