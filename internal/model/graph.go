package model

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Net is a Gorgonia expression graph of an MLP for one fixed batch size,
// compiled onto a tape machine. Its parameter nodes are bound to the
// Params' slices, so updates made to Params in place are seen by the next run.
//
// A training Net (NewTrainer) also holds the loss and, from Gorgonia's
// symbolic differentiation, one gradient node per parameter.
type Net struct {
	spec    Spec
	batch   int
	graph   *G.ExprGraph
	x       *G.Node
	targets *G.Node
	logits  *G.Node
	loss    *G.Node
	params  []*G.Node
	grads   G.Nodes
	vm      G.VM

	xBuf, tBuf []float32
}

// NewTrainer builds a training graph: logits, mean softmax cross-entropy
// against a target distribution, and its gradients with respect to every
// parameter.
func NewTrainer(spec Spec, p *Params, batch int) (*Net, error) {
	return build(spec, p, batch, true)
}

// NewPredictor builds an inference graph that computes logits only.
func NewPredictor(spec Spec, p *Params, batch int) (*Net, error) {
	return build(spec, p, batch, false)
}

func build(spec Spec, p *Params, batch int, train bool) (*Net, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("batch size %d must be >= 1", batch)
	}
	if len(p.Layers) != len(spec.Hidden)+1 {
		return nil, fmt.Errorf("params have %d layers, the model needs %d", len(p.Layers), len(spec.Hidden)+1)
	}
	n := &Net{spec: spec, batch: batch, graph: G.NewGraph()}
	n.xBuf = make([]float32, batch*spec.Input)
	n.x = G.NewMatrix(n.graph, tensor.Float32, G.WithShape(batch, spec.Input), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(batch, spec.Input), tensor.WithBacking(n.xBuf))))

	h := n.x
	for i, l := range p.Layers {
		w := G.NewMatrix(n.graph, tensor.Float32, G.WithShape(l.In, l.Out), G.WithName(fmt.Sprintf("w%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(l.W))))
		b := G.NewMatrix(n.graph, tensor.Float32, G.WithShape(1, l.Out), G.WithName(fmt.Sprintf("b%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(1, l.Out), tensor.WithBacking(l.B))))
		n.params = append(n.params, w, b)
		z, err := G.Mul(h, w)
		if err != nil {
			return nil, fmt.Errorf("layer %d matmul: %w", i, err)
		}
		if z, err = G.BroadcastAdd(z, b, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("layer %d bias: %w", i, err)
		}
		if i < len(p.Layers)-1 {
			if z, err = activate(z, spec); err != nil {
				return nil, fmt.Errorf("layer %d activation: %w", i, err)
			}
		}
		h = z
	}
	n.logits = h

	if train {
		n.tBuf = make([]float32, batch*spec.Classes)
		n.targets = G.NewMatrix(n.graph, tensor.Float32, G.WithShape(batch, spec.Classes), G.WithName("targets"),
			G.WithValue(tensor.New(tensor.WithShape(batch, spec.Classes), tensor.WithBacking(n.tBuf))))
		loss, err := SoftmaxCrossEntropy(n.logits, n.targets)
		if err != nil {
			return nil, err
		}
		n.loss = loss
		if n.grads, err = G.Grad(loss, n.params...); err != nil {
			return nil, fmt.Errorf("differentiate loss: %w", err)
		}
	}
	n.vm = G.NewTapeMachine(n.graph)
	return n, nil
}

func activate(z *G.Node, spec Spec) (*G.Node, error) {
	switch spec.Activation {
	case "relu":
		return G.Rectify(z)
	case "tanh":
		return G.Tanh(z)
	case "sigmoid":
		return G.Sigmoid(z)
	case "leaky_relu":
		return G.LeakyRelu(z, spec.LeakySlope)
	}
	return nil, fmt.Errorf("unknown activation %q", spec.Activation)
}

// Batch returns the batch size the graph was built for.
func (n *Net) Batch() int { return n.batch }

// Input returns the graph's input buffer: Batch() rows of Input features.
// Fill it before Run.
func (n *Net) Input() []float32 { return n.xBuf }

// Targets returns the target-distribution buffer of a training graph:
// Batch() rows of Classes probabilities. Fill it before Run.
func (n *Net) Targets() []float32 { return n.tBuf }

// Run executes the graph once on the current input (and targets): the
// forward pass and, for a training graph, the backward pass.
func (n *Net) Run() error {
	defer n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return fmt.Errorf("run graph: %w", err)
	}
	return nil
}

// Loss returns the loss computed by the last Run of a training graph.
func (n *Net) Loss() (float32, error) {
	if n.loss == nil {
		return 0, errors.New("not a training graph")
	}
	v, ok := n.loss.Value().(*G.F32)
	if !ok {
		return 0, fmt.Errorf("loss value is %T", n.loss.Value())
	}
	return float32(*v), nil
}

// Logits returns the Batch() x Classes logits of the last Run.
func (n *Net) Logits() ([]float32, error) {
	return float32s(n.logits.Value())
}

// Grads returns the gradients of the last Run, aligned with Params.Slices().
func (n *Net) Grads() ([][]float32, error) {
	if n.grads == nil {
		return nil, errors.New("not a training graph")
	}
	out := make([][]float32, len(n.grads))
	for i, g := range n.grads {
		s, err := float32s(g.Value())
		if err != nil {
			return nil, fmt.Errorf("gradient %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// Close releases the tape machine.
func (n *Net) Close() error { return n.vm.Close() }

func float32s(v G.Value) ([]float32, error) {
	t, ok := v.(tensor.Tensor)
	if !ok {
		return nil, fmt.Errorf("value is %T, not a tensor", v)
	}
	s, ok := t.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("tensor holds %T, not float32", t.Data())
	}
	return s, nil
}
