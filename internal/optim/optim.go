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
	// Threads is the number of goroutines sharing each step's element-wise
	// updates: 0 or 1 runs them on the calling goroutine, n > 1 splits the
	// elements of all the parameters taken together into n contiguous
	// ranges (small models are always updated inline). The results do not
	// depend on Threads: every element gets the same operations.
	Threads int
}

// New returns the optimizer named by s for parameters of the given sizes.
// It fails on an unknown name, on Nesterov without momentum, on a NoDecay
// mask whose length differs from len(sizes) and on negative Threads.
func New(s Settings, sizes []int) (Optimizer, error) {
	if s.Threads < 0 {
		return nil, fmt.Errorf("optimizer %s: threads must be at least 0, got %d", s.Name, s.Threads)
	}
	var noDecay []bool
	if s.NoDecay != nil {
		if len(s.NoDecay) != len(sizes) {
			return nil, fmt.Errorf("optimizer %s: weight-decay mask has %d entries for %d parameters", s.Name, len(s.NoDecay), len(sizes))
		}
		noDecay = append([]bool(nil), s.NoDecay...)
	}
	switch s.Name {
	case "adam", "adamw":
		return &Adam{Beta1: s.Beta1, Beta2: s.Beta2, Eps: s.Eps, WeightDecay: s.WeightDecay, Decoupled: s.Name == "adamw", NoDecay: noDecay, threads: s.Threads, m: zeros(sizes), v: zeros(sizes)}, nil
	case "sgd":
		if s.Nesterov && s.Momentum <= 0 {
			return nil, fmt.Errorf("optimizer sgd: nesterov needs momentum > 0, got %v", s.Momentum)
		}
		return &SGD{Momentum: s.Momentum, Nesterov: s.Nesterov, WeightDecay: s.WeightDecay, NoDecay: noDecay, threads: s.Threads, velocity: zeros(sizes)}, nil
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

	threads int // Settings.Threads
	steps   int64
	m, v    [][]float32

	// The current step's arguments and factors for the parameters subject
	// to weight decay (decay) and exempt from it (plain), shared by the
	// goroutines of a step.
	params, grads [][]float32
	decay, plain  adamConsts
}

func (a *Adam) name() string {
	if a.Decoupled {
		return "adamw"
	}
	return "adam"
}

// Step implements Optimizer. Each element is updated as in PyTorch, with
// c1 = 1 - Beta1^t and c2 = 1 - Beta2^t at step t:
//
//	p *= 1 - lr*WeightDecay (AdamW only)
//	g += WeightDecay*p (Adam only)
//	m = Beta1*m + (1-Beta1)*g
//	v = Beta2*v + (1-Beta2)*g*g
//	p -= (lr/c1)*m / (sqrt(v)*(1/sqrt(c2)) + Eps)
//
// in float32 arithmetic (see adamGeneric for the exact order of the
// operations), the factors (Beta1, 1-Beta1, Beta2, 1-Beta2, lr/c1,
// 1/sqrt(c2), Eps, 1 - lr*WeightDecay, WeightDecay) being computed in
// float64 and rounded to float32 once per step, as PyTorch does.
func (a *Adam) Step(params, grads [][]float32, lr float64) {
	a.steps++
	c1 := 1 - math.Pow(a.Beta1, float64(a.steps))
	c2 := 1 - math.Pow(a.Beta2, float64(a.steps))
	a.plain = adamConsts{
		shrink: 1,
		b1:     float32(a.Beta1),
		omb1:   float32(1 - a.Beta1),
		b2:     float32(a.Beta2),
		omb2:   float32(1 - a.Beta2),
		step:   float32(lr / c1),
		invS:   float32(1 / math.Sqrt(c2)),
		eps:    float32(a.Eps),
	}
	a.decay = a.plain
	if a.Decoupled {
		a.decay.shrink = float32(1 - lr*a.WeightDecay)
	} else {
		a.decay.wd = float32(a.WeightDecay)
	}
	a.params, a.grads = params, grads
	forRanges(params, a.threads, a)
	a.params, a.grads = nil, nil
}

// update applies the current step to elements [lo, hi) of parameter i.
func (a *Adam) update(i, lo, hi int) {
	k := &a.plain
	if decays(a.NoDecay, i) {
		k = &a.decay
	}
	active.adam(a.params[i][lo:hi], a.grads[i][lo:hi], a.m[i][lo:hi], a.v[i][lo:hi], k)
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

	threads  int // Settings.Threads
	steps    int64
	velocity [][]float32

	// The current step's arguments and factors for the parameters subject
	// to weight decay (decay) and exempt from it (plain), shared by the
	// goroutines of a step.
	params, grads [][]float32
	decay, plain  sgdConsts
}

// Step implements Optimizer. Each element is updated as in PyTorch:
//
//	g += WeightDecay*p
//	v = g on the first step, else Momentum*v + g (with momentum only)
//	p -= lr*(g + Momentum*v) (Nesterov), lr*v (momentum) or lr*g (none)
//
// in float32 arithmetic (see sgdGeneric for the exact order of the
// operations).
func (s *SGD) Step(params, grads [][]float32, lr float64) {
	s.steps++
	s.plain = sgdConsts{mu: float32(s.Momentum), rate: float32(lr)}
	if s.plain.mu != 0 {
		s.plain.flags |= sgdMomentum
		if s.steps == 1 {
			s.plain.flags |= sgdFirst
		}
		if s.Nesterov {
			s.plain.flags |= sgdNesterov
		}
	}
	s.decay = s.plain
	s.decay.wd = float32(s.WeightDecay)
	s.params, s.grads = params, grads
	forRanges(params, s.threads, s)
	s.params, s.grads = nil, nil
}

// update applies the current step to elements [lo, hi) of parameter i.
func (s *SGD) update(i, lo, hi int) {
	k := &s.plain
	if decays(s.NoDecay, i) {
		k = &s.decay
	}
	active.sgd(s.params[i][lo:hi], s.grads[i][lo:hi], s.velocity[i][lo:hi], k)
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
