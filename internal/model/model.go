// Package model builds lepton's multi-layer perceptrons as Gorgonia
// expression graphs and owns their parameters.
//
// Parameters live in plain float32 slices (Params) that every graph built
// for them shares, so an optimizer can update them in place and a training
// graph and an inference graph of another batch size see the same weights.
package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Activations lists the supported hidden-layer activation functions.
var Activations = []string{"relu", "tanh", "sigmoid", "leaky_relu"}

// Batch-normalization defaults, PyTorch's BatchNorm1d defaults; a zero
// Spec.BNMomentum or Spec.BNEps means these.
const (
	DefaultBNMomentum = 0.1
	DefaultBNEps      = 1e-5
)

// Spec is the shape of an MLP: Input features, Hidden layer sizes and
// Classes outputs, with one activation between layers.
//
// Each hidden layer is Linear -> BatchNorm (if BatchNorm) -> activation ->
// dropout (if its Dropout probability is > 0). The output layer is Linear only.
type Spec struct {
	Input      int
	Hidden     []int
	Classes    int
	Activation string
	LeakySlope float64
	Init       string

	// Dropout is the drop probability of each hidden layer's activations
	// (one per hidden layer, each in [0, 1)), or empty for no dropout.
	// Only training graphs apply it (inverted dropout).
	Dropout []float64
	// BatchNorm adds batch normalization to every hidden layer.
	BatchNorm bool
	// BNMomentum is the running-statistics momentum in (0, 1]
	// (running = (1-m)*running + m*batch); 0 means DefaultBNMomentum.
	BNMomentum float64
	// BNEps is added to the variance before its square root; 0 means DefaultBNEps.
	BNEps float64
}

// Momentum returns the batch-normalization momentum with the default applied.
func (s Spec) Momentum() float64 {
	if s.BNMomentum == 0 {
		return DefaultBNMomentum
	}
	return s.BNMomentum
}

// Eps returns the batch-normalization epsilon with the default applied.
func (s Spec) Eps() float64 {
	if s.BNEps == 0 {
		return DefaultBNEps
	}
	return s.BNEps
}

// dropout returns hidden layer l's drop probability.
func (s Spec) dropout(l int) float64 {
	if l < len(s.Dropout) {
		return s.Dropout[l]
	}
	return 0
}

// Validate reports whether the spec can be built.
func (s Spec) Validate() error {
	if s.Input < 1 {
		return fmt.Errorf("model input size %d must be >= 1", s.Input)
	}
	if s.Classes < 2 {
		return fmt.Errorf("model classes %d must be >= 2", s.Classes)
	}
	for i, h := range s.Hidden {
		if h < 1 {
			return fmt.Errorf("model hidden[%d] size %d must be >= 1", i, h)
		}
	}
	if !slices.Contains(Activations, s.Activation) {
		return fmt.Errorf("model activation %q is not one of %v", s.Activation, Activations)
	}
	if s.Init != "he" && s.Init != "glorot" {
		return fmt.Errorf("model init %q is not he or glorot", s.Init)
	}
	if len(s.Dropout) != 0 && len(s.Dropout) != len(s.Hidden) {
		return fmt.Errorf("model dropout has %d probabilities for %d hidden layers", len(s.Dropout), len(s.Hidden))
	}
	for i, p := range s.Dropout {
		if !(p >= 0 && p < 1) {
			return fmt.Errorf("model dropout[%d] %v must be >= 0 and < 1", i, p)
		}
	}
	if m := s.BNMomentum; !(m >= 0 && m <= 1) {
		return fmt.Errorf("model batch-norm momentum %v must be in (0, 1] (0 for the default %v)", m, DefaultBNMomentum)
	}
	if e := s.BNEps; !(e >= 0) || math.IsInf(e, 1) {
		return fmt.Errorf("model batch-norm eps %v must be > 0 (0 for the default %v)", e, DefaultBNEps)
	}
	return nil
}

// Sizes returns the layer widths from input to output.
func (s Spec) Sizes() []int {
	sizes := append([]int{s.Input}, s.Hidden...)
	return append(sizes, s.Classes)
}

// Layer holds one fully connected layer's parameters in lepton's layout:
// W is In x Out row-major (y = x·W + B), B has Out entries. BN is the
// layer's batch normalization, nil unless the spec has BatchNorm and the
// layer is hidden.
type Layer struct {
	In, Out int
	W       []float32
	B       []float32
	BN      *BatchNorm
}

// BatchNorm holds one hidden layer's batch normalization, Out entries each:
// Gamma (scale, initially 1) and Beta (shift, initially 0) are trained;
// RunningMean (initially 0) and RunningVar (initially 1) are buffers that
// training graphs update from batch statistics and prediction graphs use.
type BatchNorm struct {
	Gamma, Beta             []float32
	RunningMean, RunningVar []float32
}

func newBatchNorm(n int) *BatchNorm {
	bn := &BatchNorm{
		Gamma: make([]float32, n), Beta: make([]float32, n),
		RunningMean: make([]float32, n), RunningVar: make([]float32, n),
	}
	for i := 0; i < n; i++ {
		bn.Gamma[i], bn.RunningVar[i] = 1, 1
	}
	return bn
}

func (bn *BatchNorm) clone() *BatchNorm {
	if bn == nil {
		return nil
	}
	return &BatchNorm{
		Gamma: slices.Clone(bn.Gamma), Beta: slices.Clone(bn.Beta),
		RunningMean: slices.Clone(bn.RunningMean), RunningVar: slices.Clone(bn.RunningVar),
	}
}

// Params holds all of a network's parameters.
type Params struct {
	Layers []Layer
}

// NewParams draws initial parameters for spec from seed: He-normal
// (std sqrt(2/fan_in)) or Glorot-uniform (limit sqrt(6/(fan_in+fan_out)))
// weights and zero biases; batch normalization starts as the identity
// (gamma 1, beta 0, running mean 0, running variance 1).
func NewParams(spec Spec, seed uint64) (*Params, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d6f64656c)) // stream "model"
	sizes := spec.Sizes()
	p := &Params{}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		layer := Layer{In: in, Out: out, W: make([]float32, in*out), B: make([]float32, out)}
		switch spec.Init {
		case "he":
			std := math.Sqrt(2 / float64(in))
			for i := range layer.W {
				layer.W[i] = float32(rng.NormFloat64() * std)
			}
		case "glorot":
			limit := math.Sqrt(6 / float64(in+out))
			for i := range layer.W {
				layer.W[i] = float32((2*rng.Float64() - 1) * limit)
			}
		}
		if spec.BatchNorm && l+2 < len(sizes) {
			layer.BN = newBatchNorm(out)
		}
		p.Layers = append(p.Layers, layer)
	}
	return p, nil
}

// Count returns the number of trained scalar parameters (those of Slices();
// batch-normalization running statistics are not counted).
func (p *Params) Count() int {
	n := 0
	for _, s := range p.Slices() {
		n += len(s)
	}
	return n
}

// Slices returns every trained parameter slice in a fixed order: for each
// layer its weight, its bias and, with batch normalization, its gamma and
// beta (layer 0 weight, layer 0 bias, [layer 0 gamma, layer 0 beta,]
// layer 1 weight, ...). Running statistics are not included (see Buffers).
func (p *Params) Slices() [][]float32 {
	out := make([][]float32, 0, 4*len(p.Layers))
	for _, l := range p.Layers {
		out = append(out, l.W, l.B)
		if l.BN != nil {
			out = append(out, l.BN.Gamma, l.BN.Beta)
		}
	}
	return out
}

// NoDecay reports, aligned with Slices(), which parameters weight decay
// should skip: biases and batch-normalization gamma and beta.
func (p *Params) NoDecay() []bool {
	out := make([]bool, 0, 4*len(p.Layers))
	for _, l := range p.Layers {
		out = append(out, false, true)
		if l.BN != nil {
			out = append(out, true, true)
		}
	}
	return out
}

// Buffers returns the untrained state slices: each batch-normalized layer's
// running mean and running variance, in layer order. Training graphs update
// them in place; they are empty without batch normalization.
func (p *Params) Buffers() [][]float32 {
	var out [][]float32
	for _, l := range p.Layers {
		if l.BN != nil {
			out = append(out, l.BN.RunningMean, l.BN.RunningVar)
		}
	}
	return out
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	c := &Params{Layers: make([]Layer, len(p.Layers))}
	for i, l := range p.Layers {
		c.Layers[i] = Layer{In: l.In, Out: l.Out, W: slices.Clone(l.W), B: slices.Clone(l.B), BN: l.BN.clone()}
	}
	return c
}

// Named is a parameter tensor in PyTorch's naming and layout, the form
// checkpoints store: "layers.<i>.weight" is [out, in], "layers.<i>.bias" is
// [out], and batch normalization (BatchNorm1d naming) stores
// "layers.<i>.bn.weight" (gamma), "layers.<i>.bn.bias" (beta),
// "layers.<i>.bn.running_mean" and "layers.<i>.bn.running_var", each [out].
type Named struct {
	Name  string
	Shape []int
	Data  []float32
}

// Export returns copies of the parameters in PyTorch layout (weights
// transposed to [out, in]). The first len(Slices()) entries are the trained
// parameters in Slices() order, so Export()[i] names Slices()[i]; the
// running statistics (Buffers() order) follow them.
func (p *Params) Export() []Named {
	var out []Named
	for i, l := range p.Layers {
		wt := make([]float32, len(l.W))
		for r := 0; r < l.In; r++ {
			for c := 0; c < l.Out; c++ {
				wt[c*l.In+r] = l.W[r*l.Out+c]
			}
		}
		out = append(out,
			Named{Name: fmt.Sprintf("layers.%d.weight", i), Shape: []int{l.Out, l.In}, Data: wt},
			Named{Name: fmt.Sprintf("layers.%d.bias", i), Shape: []int{l.Out}, Data: slices.Clone(l.B)})
		if l.BN != nil {
			out = append(out,
				Named{Name: fmt.Sprintf("layers.%d.bn.weight", i), Shape: []int{l.Out}, Data: slices.Clone(l.BN.Gamma)},
				Named{Name: fmt.Sprintf("layers.%d.bn.bias", i), Shape: []int{l.Out}, Data: slices.Clone(l.BN.Beta)})
		}
	}
	for i, l := range p.Layers {
		if l.BN != nil {
			out = append(out,
				Named{Name: fmt.Sprintf("layers.%d.bn.running_mean", i), Shape: []int{l.Out}, Data: slices.Clone(l.BN.RunningMean)},
				Named{Name: fmt.Sprintf("layers.%d.bn.running_var", i), Shape: []int{l.Out}, Data: slices.Clone(l.BN.RunningVar)})
		}
	}
	return out
}

// Import builds parameters for spec from tensors in PyTorch layout, checking
// that every tensor is present with the shape the spec needs (with
// BatchNorm, also each hidden layer's bn tensors; running variances must be
// >= 0).
func Import(spec Spec, lookup func(name string) (shape []int, data []float32, err error)) (*Params, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	vector := func(name string, n int) ([]float32, error) {
		shape, data, err := lookup(name)
		if err != nil {
			return nil, err // the lookup's error names the tensor
		}
		if !slices.Equal(shape, []int{n}) || len(data) != n {
			return nil, fmt.Errorf("tensor %s has shape %v, the model needs [%d]", name, shape, n)
		}
		return slices.Clone(data), nil
	}
	sizes := spec.Sizes()
	p := &Params{}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		wname := fmt.Sprintf("layers.%d.weight", l)
		wshape, wdata, err := lookup(wname)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(wshape, []int{out, in}) || len(wdata) != out*in {
			return nil, fmt.Errorf("tensor %s has shape %v, the model needs [%d %d]", wname, wshape, out, in)
		}
		bdata, err := vector(fmt.Sprintf("layers.%d.bias", l), out)
		if err != nil {
			return nil, err
		}
		layer := Layer{In: in, Out: out, W: make([]float32, in*out), B: bdata}
		for c := 0; c < out; c++ {
			for r := 0; r < in; r++ {
				layer.W[r*out+c] = wdata[c*in+r]
			}
		}
		if spec.BatchNorm && l+2 < len(sizes) {
			bn := &BatchNorm{}
			for _, t := range []struct {
				suffix string
				dst    *[]float32
			}{
				{"weight", &bn.Gamma}, {"bias", &bn.Beta},
				{"running_mean", &bn.RunningMean}, {"running_var", &bn.RunningVar},
			} {
				if *t.dst, err = vector(fmt.Sprintf("layers.%d.bn.%s", l, t.suffix), out); err != nil {
					return nil, err
				}
			}
			for j, v := range bn.RunningVar {
				if !(v >= 0) {
					return nil, fmt.Errorf("tensor layers.%d.bn.running_var[%d] is %v, must be >= 0", l, j, v)
				}
			}
			layer.BN = bn
		}
		p.Layers = append(p.Layers, layer)
	}
	return p, nil
}
