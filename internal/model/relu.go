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

// biasReLU returns relu(x + b) for a matrix x and a 1 x cols row b added
// to every row, as one Gorgonia operation with the bits of
// G.Rectify(G.BroadcastAdd(x, b, nil, []byte{0})): the same float32 sum
// x[i][j] + b[j] (without BroadcastAdd's repeated copy of b) and the same
// mask. The gradient of b is Gorgonia's, as BroadcastAdd's: the column
// sums (G.Sum along rows) of the gradient of the sum, reshaped to a row.
func biasReLU(x, b *G.Node) (*G.Node, error) {
	if x.Dims() != 2 || b.Dims() != 2 || b.Shape()[0] != 1 || b.Shape()[1] != x.Shape()[1] {
		return nil, fmt.Errorf("bias relu: input %v and bias %v do not fit", x.Shape(), b.Shape())
	}
	return G.ApplyOp(reluOp{bias: true}, x, b)
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

// reluOp computes v ⊙ (v >= 0), v = x or, with bias, v = x + b (b a
// row, added to every row of x).
type reluOp struct{ bias bool }

func (op reluOp) Arity() int { return 1 + b2i(op.bias) }

func (op reluOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	if op.bias {
		return hm.NewFnType(t, t, t)
	}
	return hm.NewFnType(t, t)
}

func (reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) { return shapeOf("relu", in) }

func (op reluOp) Do(inputs ...G.Value) (G.Value, error) {
	return op.UsePreallocDo(nil, inputs...)
}

// UsePreallocDo computes into prealloc when it is a float32 matrix of the
// output's shape, into a new tensor otherwise.
func (op reluOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("relu: want %d inputs, got %d", op.Arity(), len(inputs))
	}
	x, bs, err := reluInputs("relu", inputs, op.bias)
	if err != nil {
		return nil, err
	}
	out := outputLike(prealloc, x)
	xs, os := x.Data().([]float32), out.Data().([]float32)
	os = os[:len(xs)]
	if !op.bias {
		for i, v := range xs {
			os[i] = v * reluMask(v)
		}
		return out, nil
	}
	cols := len(bs)
	for r := 0; r+cols <= len(xs); r += cols {
		xr, or := xs[r:r+cols], os[r:r+cols]
		for j, b := range bs {
			v := xr[j] + b
			or[j] = v * reluMask(v)
		}
	}
	return out, nil
}

// reluInputs checks the inputs of reluOp or, with the gradient, of
// reluGradOp: the matrix x, with bias the row b (returned as bs, with as
// many values as x has columns), then with grad a matrix of x's shape.
func reluInputs(what string, inputs []G.Value, bias bool) (*tensor.Dense, []float32, error) {
	x, ok := inputs[0].(*tensor.Dense)
	if !ok || x.Dtype() != tensor.Float32 || x.Dims() != 2 {
		return nil, nil, fmt.Errorf("%s: want a float32 matrix, got %T %v", what, inputs[0], inputs[0].Shape())
	}
	var bs []float32
	if bias {
		b, ok := inputs[1].(*tensor.Dense)
		if !ok || b.Dtype() != tensor.Float32 || b.Size() != x.Shape()[1] {
			return nil, nil, fmt.Errorf("%s: want a float32 bias of %d values, got %T %v", what, x.Shape()[1], inputs[1], inputs[1].Shape())
		}
		bs = b.Data().([]float32)
	}
	return x, bs, nil
}

func (reluOp) ReturnsPtr() bool     { return false }
func (reluOp) CallsExtern() bool    { return false }
func (reluOp) OverwritesInput() int { return -1 }
func (op reluOp) String() string {
	if op.bias {
		return "BiasReLU"
	}
	return "ReLU"
}
func (op reluOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op reluOp) Hashcode() uint32      { return hashOf(op) }

func (op reluOp) DiffWRT(int) []bool { return []bool{true, true}[:op.Arity()] }

func (op reluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(reluGradOp(op), append(inputs[:op.Arity():op.Arity()], grad)...)
	if err != nil {
		return nil, fmt.Errorf("relu gradient: %w", err)
	}
	if !op.bias {
		return G.Nodes{dx}, nil
	}
	// BroadcastAdd's gradient of b: repeatOp's column sums, then
	// reshapeOp's reshape back to b's shape.
	sum, err := G.Sum(dx, 0)
	if err != nil {
		return nil, fmt.Errorf("relu bias gradient: %w", err)
	}
	db, err := G.Reshape(sum, inputs[1].Shape().Clone())
	if err != nil {
		return nil, fmt.Errorf("relu bias gradient: %w", err)
	}
	return G.Nodes{dx, db}, nil
}

// reluGradOp computes (v >= 0) ⊙ g, v as in reluOp: the gradient g of
// relu(v) taken back to v (and so to x).
type reluGradOp struct{ bias bool }

func (op reluGradOp) Arity() int { return 2 + b2i(op.bias) }

func (op reluGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	if op.bias {
		return hm.NewFnType(t, t, t, t)
	}
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
func (op reluGradOp) UsePreallocDo(prealloc G.Value, inputs ...G.Value) (G.Value, error) {
	if len(inputs) != op.Arity() {
		return nil, fmt.Errorf("relu gradient: want %d inputs, got %d", op.Arity(), len(inputs))
	}
	x, bs, err := reluInputs("relu gradient", inputs, op.bias)
	if err != nil {
		return nil, err
	}
	g, ok := inputs[len(inputs)-1].(*tensor.Dense)
	if !ok || g.Dtype() != tensor.Float32 || !g.Shape().Eq(x.Shape()) {
		return nil, fmt.Errorf("relu gradient: want a float32 gradient of shape %v, got %T", x.Shape(), inputs[len(inputs)-1])
	}
	out := outputLike(prealloc, x)
	xs, gs, os := x.Data().([]float32), g.Data().([]float32), out.Data().([]float32)
	gs, os = gs[:len(xs)], os[:len(xs)]
	if !op.bias {
		for i, v := range xs {
			os[i] = reluMask(v) * gs[i]
		}
		return out, nil
	}
	cols := len(bs)
	for r := 0; r+cols <= len(xs); r += cols {
		xr, gr, or := xs[r:r+cols], gs[r:r+cols], os[r:r+cols]
		for j, b := range bs {
			or[j] = reluMask(xr[j]+b) * gr[j]
		}
	}
	return out, nil
}

func (reluGradOp) ReturnsPtr() bool         { return false }
func (reluGradOp) CallsExtern() bool        { return false }
func (reluGradOp) OverwritesInput() int     { return -1 }
func (op reluGradOp) String() string        { return reluOp(op).String() + "Grad" }
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

// b2i is 1 for true, 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
