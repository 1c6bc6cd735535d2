package model

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// relu returns max(x, 0) as one Gorgonia operation with the exact float
// operations of G.Rectify, which builds x ⊙ (x >= 0): a mask of 1s and 0s
// (a fresh tensor every run, filled with a branch per value) multiplied
// into x. Here each value is multiplied by its mask value directly, without
// the mask tensor or a branch, and the derivative multiplies the incoming
// gradient by the same mask, recomputed from x; the bits are those of
// G.Rectify and its derivative (x·1 = x, x·0 = ±0 or NaN, and g·m = m·g).
func relu(x *G.Node) (*G.Node, error) {
	if x.Dims() != 2 {
		return nil, fmt.Errorf("relu: input %v must be a matrix", x.Shape())
	}
	return G.ApplyOp(reluOp{}, x)
}

// reluMask returns 1 if v >= 0 and 0 otherwise (also for NaN), as the
// bits of G.Rectify's comparison, without a branch.
func reluMask(v float32) float32 {
	var bits uint32
	if v >= 0 {
		bits = 0x3f800000 // 1.0
	}
	return math.Float32frombits(bits)
}

// reluOp computes x ⊙ (x >= 0).
type reluOp struct{}

func (reluOp) Arity() int { return 1 }

func (reluOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t)
}

func (reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf("relu", in) }

func (op reluOp) Do(inputs ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, inputs...)
}

// UsePreallocDo computes into prealloc when it is a float32 matrix of the
// output's shape, into a new tensor otherwise.
func (reluOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 1 {
		return nil, fmt.Errorf("relu: want 1 input, got %d", len(inputs))
	}
	x, ok := inputs[0].(*tensor.Dense)
	if !ok || x.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("relu: want a float32 matrix, got %T", inputs[0])
	}
	out := outputLike(prealloc, x)
	xs, os := x.Data().([]float32), out.Data().([]float32)
	os = os[:len(xs)]
	for i, v := range xs {
		os[i] = v * reluMask(v)
	}
	return out, nil
}

func (reluOp) ReturnsPtr() bool         { return false }
func (reluOp) CallsExtern() bool        { return false }
func (reluOp) OverwritesInput() int     { return -1 }
func (reluOp) String() string           { return "ReLU" }
func (op reluOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op reluOp) Hashcode() uint32      { return hashOf(op) }

func (reluOp) DiffWRT(int) []bool { return []bool{true} }

func (reluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(reluGradOp{}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("relu gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// reluGradOp computes (x >= 0) ⊙ g: the gradient g of relu(x) taken
// back to x.
type reluGradOp struct{}

func (reluGradOp) Arity() int { return 2 }

func (reluGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, t)
}

func (reluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return shapeOf("relu gradient", in)
}

func (op reluGradOp) Do(inputs ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, inputs...)
}

// UsePreallocDo computes into prealloc when it is a float32 matrix of the
// output's shape, into a new tensor otherwise.
func (reluGradOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	x, g, err := twoMatrices("relu gradient", inputs)
	if err != nil {
		return nil, err
	}
	out := outputLike(prealloc, x)
	xs, gs, os := x.Data().([]float32), g.Data().([]float32), out.Data().([]float32)
	gs, os = gs[:len(xs)], os[:len(xs)]
	for i, v := range xs {
		os[i] = reluMask(v) * gs[i]
	}
	return out, nil
}

func (reluGradOp) ReturnsPtr() bool         { return false }
func (reluGradOp) CallsExtern() bool        { return false }
func (reluGradOp) OverwritesInput() int     { return -1 }
func (reluGradOp) String() string           { return "ReLUGrad" }
func (op reluGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op reluGradOp) Hashcode() uint32      { return hashOf(op) }

// shapeOf returns a copy of the first input shape of an element-wise op.
func shapeOf(what string, in []G.DimSizer) (tensor.Shape, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("%s: no input shape", what)
	}
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("%s: want a shape, got %T", what, in[0])
	}
	return s.Clone(), nil
}

// outputLike returns prealloc if it is a float32 tensor of x's shape that
// shares no memory with x, or else a new tensor of that shape.
func outputLike(prealloc G.Value, x *tensor.Dense) *tensor.Dense {
	if p, ok := prealloc.(*tensor.Dense); ok && p.Dtype() == tensor.Float32 && p.Shape().Eq(x.Shape()) &&
		p.IsNativelyAccessible() && p.Uintptr() != x.Uintptr() {
		return p
	}
	return tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.Of(tensor.Float32))
}
