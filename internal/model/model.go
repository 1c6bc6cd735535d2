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

// Spec is the shape of an MLP: Input features, Hidden layer sizes and
// Classes outputs, with one activation between layers.
type Spec struct {
	Input      int
	Hidden     []int
	Classes    int
	Activation string
	LeakySlope float64
	Init       string
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
	return nil
}

// Sizes returns the layer widths from input to output.
func (s Spec) Sizes() []int {
	sizes := append([]int{s.Input}, s.Hidden...)
	return append(sizes, s.Classes)
}

// Layer holds one fully connected layer's parameters in lepton's layout:
// W is In x Out row-major (y = x·W + B), B has Out entries.
type Layer struct {
	In, Out int
	W       []float32
	B       []float32
}

// Params holds all of a network's parameters.
type Params struct {
	Layers []Layer
}

// NewParams draws initial parameters for spec from seed: He-normal
// (std sqrt(2/fan_in)) or Glorot-uniform (limit sqrt(6/(fan_in+fan_out)))
// weights and zero biases.
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
		p.Layers = append(p.Layers, layer)
	}
	return p, nil
}

// Count returns the number of scalar parameters.
func (p *Params) Count() int {
	n := 0
	for _, l := range p.Layers {
		n += len(l.W) + len(l.B)
	}
	return n
}

// Slices returns every parameter slice in a fixed order
// (layer 0 weight, layer 0 bias, layer 1 weight, ...).
func (p *Params) Slices() [][]float32 {
	out := make([][]float32, 0, 2*len(p.Layers))
	for _, l := range p.Layers {
		out = append(out, l.W, l.B)
	}
	return out
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	c := &Params{Layers: make([]Layer, len(p.Layers))}
	for i, l := range p.Layers {
		c.Layers[i] = Layer{In: l.In, Out: l.Out, W: slices.Clone(l.W), B: slices.Clone(l.B)}
	}
	return c
}

// Named is a parameter tensor in PyTorch's naming and layout, the form
// checkpoints store: "layers.<i>.weight" is [out, in], "layers.<i>.bias" is [out].
type Named struct {
	Name  string
	Shape []int
	Data  []float32
}

// Export returns the parameters in PyTorch layout (weights transposed to [out, in]).
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
	}
	return out
}

// Import builds parameters for spec from tensors in PyTorch layout, checking
// that every tensor is present with the shape the spec needs.
func Import(spec Spec, lookup func(name string) (shape []int, data []float32, err error)) (*Params, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	sizes := spec.Sizes()
	p := &Params{}
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		wname, bname := fmt.Sprintf("layers.%d.weight", l), fmt.Sprintf("layers.%d.bias", l)
		wshape, wdata, err := lookup(wname)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(wshape, []int{out, in}) || len(wdata) != out*in {
			return nil, fmt.Errorf("tensor %s has shape %v, the model needs [%d %d]", wname, wshape, out, in)
		}
		bshape, bdata, err := lookup(bname)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(bshape, []int{out}) || len(bdata) != out {
			return nil, fmt.Errorf("tensor %s has shape %v, the model needs [%d]", bname, bshape, out)
		}
		layer := Layer{In: in, Out: out, W: make([]float32, in*out), B: slices.Clone(bdata)}
		for c := 0; c < out; c++ {
			for r := 0; r < in; r++ {
				layer.W[r*out+c] = wdata[c*in+r]
			}
		}
		p.Layers = append(p.Layers, layer)
	}
	return p, nil
}
