package model

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy returns the mean over the batch of the cross-entropy
// between softmax(logits) and the target distributions (one row per example,
// rows summing to 1: one-hot labels or smoothed labels).
//
// It is one fused Gorgonia operation, computed with the log-sum-exp trick so
// that logits of any magnitude give finite results. Its derivative,
// (softmax(logits) - targets) / batch, is supplied to Gorgonia's symbolic
// differentiation like any built-in operation's, so gradients of the whole
// graph still come from Gorgonia's automatic differentiation.
func SoftmaxCrossEntropy(logits, targets *G.Node) (*G.Node, error) {
	return softmaxCrossEntropy(logits, targets, 0)
}

// softmaxCrossEntropy is SoftmaxCrossEntropy divided by div instead of the
// number of rows when div > 0: a shard of a larger batch of div rows
// computes its rows' share of the whole batch's mean loss (and gradient).
func softmaxCrossEntropy(logits, targets *G.Node, div int) (*G.Node, error) {
	if !logits.Shape().Eq(targets.Shape()) || logits.Shape().Dims() != 2 {
		return nil, fmt.Errorf("softmax cross-entropy: logits %v and targets %v must be equal 2-D shapes", logits.Shape(), targets.Shape())
	}
	return G.ApplyOp(xentOp{div: div}, logits, targets)
}

// xentOp computes sum_i( logsumexp(x_i) - sum_j t_ij x_ij ) / d, where d is
// div, or the number of rows i when div is 0 (the mean over the batch).
type xentOp struct{ div int }

// divisor returns what the loss of rows rows is divided by.
func divisor(div, rows int) float64 {
	if div > 0 {
		return float64(div)
	}
	return float64(rows)
}

func (xentOp) Arity() int { return 2 }

func (xentOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a)
}

func (xentOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }

func (op xentOp) Do(inputs ...G.Value) (G.Value, error) {
	x, t, err := twoMatrices("softmax cross-entropy", inputs)
	if err != nil {
		return nil, err
	}
	rows, cols := x.Shape()[0], x.Shape()[1]
	xs, ts := x.Data().([]float32), t.Data().([]float32)
	var total float64
	for i := 0; i < rows; i++ {
		row, trow := xs[i*cols:(i+1)*cols], ts[i*cols:(i+1)*cols]
		total += rowLoss(row, trow)
	}
	return G.NewF32(float32(total / divisor(op.div, rows))), nil
}

// rowLoss is logsumexp(row) - dot(trow, row), computed in float64.
func rowLoss(row, trow []float32) float64 {
	m, s := expSum(row)
	var dot float64
	for j, v := range row {
		dot += float64(trow[j]) * (float64(v) - m)
	}
	return math.Log(s) - dot
}

func (xentOp) ReturnsPtr() bool         { return false }
func (xentOp) CallsExtern() bool        { return false }
func (xentOp) OverwritesInput() int     { return -1 }
func (op xentOp) String() string        { return divName("SoftmaxCrossEntropy", op.div) }
func (op xentOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op xentOp) Hashcode() uint32      { return hashOf(op) }

func (xentOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op xentOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(xentGradOp(op), inputs[0], inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("softmax cross-entropy gradient: %w", err)
	}
	return G.Nodes{dx, nil}, nil
}

// xentGradOp computes g * (softmax(x) - t) / d, d as in xentOp.
type xentGradOp struct{ div int }

func (xentGradOp) Arity() int { return 3 }

func (xentGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := G.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a, t)
}

func (xentGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("softmax cross-entropy gradient: want a shape, got %T", in[0])
	}
	return s.Clone(), nil
}

func (op xentGradOp) Do(inputs ...G.Value) (G.Value, error) {
	if len(inputs) != 3 {
		return nil, fmt.Errorf("softmax cross-entropy gradient: want 3 inputs, got %d", len(inputs))
	}
	x, t, err := twoMatrices("softmax cross-entropy gradient", inputs[:2])
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(inputs[2])
	if err != nil {
		return nil, err
	}
	rows, cols := x.Shape()[0], x.Shape()[1]
	out := tensor.New(tensor.WithShape(rows, cols), tensor.Of(tensor.Float32))
	xs, ts, os := x.Data().([]float32), t.Data().([]float32), out.Data().([]float32)
	scale := g / divisor(op.div, rows)
	for i := 0; i < rows; i++ {
		row := xs[i*cols : (i+1)*cols]
		m, s := expSum(row)
		for j, v := range row {
			p := math.Exp(float64(v)-m) / s
			os[i*cols+j] = float32(scale * (p - float64(ts[i*cols+j])))
		}
	}
	return out, nil
}

func (xentGradOp) ReturnsPtr() bool         { return false }
func (xentGradOp) CallsExtern() bool        { return false }
func (xentGradOp) OverwritesInput() int     { return -1 }
func (op xentGradOp) String() string        { return divName("SoftmaxCrossEntropyGrad", op.div) }
func (op xentGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op xentGradOp) Hashcode() uint32      { return hashOf(op) }

// divName is an operation's name, with its divisor if it has one.
func divName(name string, div int) string {
	if div > 0 {
		return fmt.Sprintf("%s/%d", name, div)
	}
	return name
}

func hashOf(op fmt.Stringer) uint32 {
	h := fnv.New32a()
	fmt.Fprint(h, op.String())
	return h.Sum32()
}

func twoMatrices(what string, inputs []G.Value) (*tensor.Dense, *tensor.Dense, error) {
	if len(inputs) != 2 {
		return nil, nil, fmt.Errorf("%s: want 2 inputs, got %d", what, len(inputs))
	}
	x, ok1 := inputs[0].(*tensor.Dense)
	t, ok2 := inputs[1].(*tensor.Dense)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("%s: want float32 matrices, got %T and %T", what, inputs[0], inputs[1])
	}
	if x.Dtype() != tensor.Float32 || t.Dtype() != tensor.Float32 {
		return nil, nil, fmt.Errorf("%s: want float32, got %v and %v", what, x.Dtype(), t.Dtype())
	}
	if !x.Shape().Eq(t.Shape()) || x.Shape().Dims() != 2 {
		return nil, nil, fmt.Errorf("%s: shapes %v and %v differ", what, x.Shape(), t.Shape())
	}
	return x, t, nil
}

func scalarOf(v G.Value) (float64, error) {
	switch s := v.(type) {
	case *G.F32:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Size() == 1 && s.Dtype() == tensor.Float32 {
			return float64(s.Data().([]float32)[0]), nil
		}
	}
	return 0, fmt.Errorf("softmax cross-entropy gradient: want a float32 scalar gradient, got %T", v)
}
