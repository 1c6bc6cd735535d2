package model

import (
	"errors"
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Net is a Gorgonia expression graph of an MLP for one fixed batch size,
// compiled onto a tape machine. Its parameter nodes are bound to the
// Params' slices, so updates made to Params in place are seen by the next run.
//
// A training Net (NewTrainer) also holds the loss and, from Gorgonia's
// symbolic differentiation, one gradient node per parameter. It applies
// dropout with masks drawn by SampleDropout and normalizes with batch
// statistics, updating the running statistics in Params at the end of
// every Run. A prediction Net (NewPredictor) applies no dropout and
// normalizes with the running statistics.
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

	drops   []*dropMask   // training: hidden layers with dropout
	sampled bool          // SampleDropout has filled the masks
	bnBatch []*bnBatch    // training: batch statistics of each normalized layer
	bnRun   []*bnRunStats // prediction: running statistics fed to the graph
	sinks   G.Nodes       // nodes that must run although nothing reads them (Read nodes)
	pc      *int          // the tape machine's program counter, nil if not reachable
	gradBuf [][]float32   // Grads' result, reused across steps

	deferStats bool // buildOptions.deferStats
}

// dropMask is one hidden layer's dropout mask input: Batch x Out values,
// each 0 (dropped) or scale = 1/(1-p) (kept).
type dropMask struct {
	p     float64
	scale float32
	buf   []float32
}

// NewTrainer builds a training graph: logits, mean softmax cross-entropy
// against a target distribution, and its gradients with respect to every
// parameter (aligned with Params.Slices()). With batch normalization the
// batch must be at least 2 (the running variance uses the unbiased batch
// variance).
func NewTrainer(spec Spec, p *Params, batch int) (*Net, error) {
	return build(spec, p, batch, true, buildOptions{})
}

// NewPredictor builds an inference graph that computes logits only, without
// dropout and with batch normalization by the running statistics.
func NewPredictor(spec Spec, p *Params, batch int) (*Net, error) {
	return build(spec, p, batch, false, buildOptions{})
}

// buildOptions are the settings of a training graph that is one shard of
// a larger batch (see Shards).
type buildOptions struct {
	// lossDiv, when > 0, divides the summed loss instead of the batch
	// size: the rows of the whole batch the graph's rows are part of.
	lossDiv int
	// deferStats leaves the running statistics to the caller: Run
	// computes the batch statistics but does not update Params.
	deferStats bool
}

func build(spec Spec, p *Params, batch int, train bool, o buildOptions) (*Net, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("batch size %d must be >= 1", batch)
	}
	if len(p.Layers) != len(spec.Hidden)+1 {
		return nil, fmt.Errorf("params have %d layers, the model needs %d", len(p.Layers), len(spec.Hidden)+1)
	}
	for i, l := range p.Layers {
		hidden := i < len(p.Layers)-1
		switch {
		case spec.BatchNorm && hidden && l.BN == nil:
			return nil, fmt.Errorf("params layer %d has no batch normalization, the model needs it", i)
		case (!spec.BatchNorm || !hidden) && l.BN != nil:
			return nil, fmt.Errorf("params layer %d has batch normalization, the model has none there", i)
		case l.BN != nil && (len(l.BN.Gamma) != l.Out || len(l.BN.Beta) != l.Out ||
			len(l.BN.RunningMean) != l.Out || len(l.BN.RunningVar) != l.Out):
			return nil, fmt.Errorf("params layer %d batch normalization does not have %d entries", i, l.Out)
		}
	}
	if train && spec.BatchNorm && len(spec.Hidden) > 0 && batch < 2 {
		return nil, fmt.Errorf("batch size %d: training with batch normalization needs a batch of at least 2", batch)
	}
	n := &Net{spec: spec, batch: batch, graph: G.NewGraph(), deferStats: o.deferStats}
	n.xBuf = make([]float32, batch*spec.Input)
	n.x = G.NewMatrix(n.graph, tensor.Float32, G.WithShape(batch, spec.Input), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(batch, spec.Input), tensor.WithBacking(n.xBuf))))

	h := n.x
	for i, l := range p.Layers {
		w := G.NewMatrix(n.graph, tensor.Float32, G.WithShape(l.In, l.Out), G.WithName(fmt.Sprintf("w%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(l.W))))
		b := n.row(fmt.Sprintf("b%d", i), l.B)
		n.params = append(n.params, w, b)
		z, err := G.Mul(h, w)
		if err != nil {
			return nil, fmt.Errorf("layer %d matmul: %w", i, err)
		}
		// A hidden ReLU layer without batch normalization adds the bias
		// and rectifies in one operation (same bits, see biasReLU).
		fused := i < len(p.Layers)-1 && l.BN == nil && spec.Activation == "relu"
		if fused {
			if z, err = biasReLU(z, b); err != nil {
				return nil, fmt.Errorf("layer %d bias and activation: %w", i, err)
			}
		} else if z, err = G.BroadcastAdd(z, b, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("layer %d bias: %w", i, err)
		}
		if i < len(p.Layers)-1 {
			if l.BN != nil {
				if z, err = n.batchNorm(i, z, l.BN, train); err != nil {
					return nil, fmt.Errorf("layer %d batch normalization: %w", i, err)
				}
			}
			if !fused {
				if z, err = activate(z, spec); err != nil {
					return nil, fmt.Errorf("layer %d activation: %w", i, err)
				}
			}
			if prob := spec.dropout(i); train && prob > 0 {
				d := &dropMask{p: prob, scale: float32(1 / (1 - prob)), buf: make([]float32, batch*l.Out)}
				mask := G.NewMatrix(n.graph, tensor.Float32, G.WithShape(batch, l.Out), G.WithName(fmt.Sprintf("dropmask%d", i)),
					G.WithValue(tensor.New(tensor.WithShape(batch, l.Out), tensor.WithBacking(d.buf))))
				if z, err = G.HadamardProd(z, mask); err != nil {
					return nil, fmt.Errorf("layer %d dropout: %w", i, err)
				}
				n.drops = append(n.drops, d)
			}
		}
		h = z
	}
	n.logits = h

	if train {
		n.tBuf = make([]float32, batch*spec.Classes)
		n.targets = G.NewMatrix(n.graph, tensor.Float32, G.WithShape(batch, spec.Classes), G.WithName("targets"),
			G.WithValue(tensor.New(tensor.WithShape(batch, spec.Classes), tensor.WithBacking(n.tBuf))))
		loss, err := softmaxCrossEntropy(n.logits, n.targets, o.lossDiv)
		if err != nil {
			return nil, err
		}
		n.loss = loss
		if n.grads, err = G.Grad(loss, n.params...); err != nil {
			return nil, fmt.Errorf("differentiate loss: %w", err)
		}
	}
	// Compile only what the outputs need: Gorgonia's symbolic
	// differentiation of x·W also builds the gradient of the input x, which
	// nothing uses; leaving it out saves a third of the first layer's work.
	outputs := G.Nodes{n.logits}
	if train {
		outputs = append(append(append(outputs, n.loss), n.grads...), n.sinks...)
	}
	prog, locs, err := G.CompileFunction(n.graph, n.graph.Inputs(), outputs)
	if err != nil {
		return nil, fmt.Errorf("compile graph: %w", err)
	}
	n.vm = G.NewTapeMachine(n.graph, G.WithPrecompiled(prog, locs))
	n.pc = programCounter(n.vm)
	return n, nil
}

// row returns a 1 x len(data) matrix node bound to data.
func (n *Net) row(name string, data []float32) *G.Node {
	return G.NewMatrix(n.graph, tensor.Float32, G.WithShape(1, len(data)), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(1, len(data)), tensor.WithBacking(data))))
}

func activate(z *G.Node, spec Spec) (*G.Node, error) {
	switch spec.Activation {
	case "relu":
		return relu(z)
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

// SampleDropout draws new dropout masks for a training graph from rng
// (deterministic for a seeded rng): each hidden activation is kept with
// probability 1-p and scaled by 1/(1-p), or zeroed. The masks stay in
// place until the next SampleDropout, so call it before every training
// Run. It does nothing for a prediction graph or a spec without dropout.
// A nil rng leaves the masks unsampled, so the next Run fails.
func (n *Net) SampleDropout(rng *rand.Rand) {
	if len(n.drops) == 0 {
		return
	}
	if rng == nil {
		n.sampled = false
		return
	}
	for _, d := range n.drops {
		d.sample(rng)
	}
	n.sampled = true
}

// sampleFrom fills the mask from src, one value per mask value in order,
// exactly as sample(rand.New(src)) does (rand.Rand.Float64 of a value u
// is float64(u<<11>>11) / (1<<53)), without the interface calls.
func (d *dropMask) sampleFrom(src *rand.PCG) {
	for i := range d.buf {
		if float64(src.Uint64()<<11>>11)/(1<<53) < d.p {
			d.buf[i] = 0
		} else {
			d.buf[i] = d.scale
		}
	}
}

// sample fills the mask from rng, one draw per value in order.
func (d *dropMask) sample(rng *rand.Rand) {
	for i := range d.buf {
		if rng.Float64() < d.p {
			d.buf[i] = 0
		} else {
			d.buf[i] = d.scale
		}
	}
}

// Run executes the graph once on the current input (and targets): the
// forward pass and, for a training graph, the backward pass.
//
// A training graph with dropout needs masks from SampleDropout. A training
// graph with batch normalization also updates the running statistics in
// Params from this batch's statistics after the passes, as PyTorch's
// BatchNorm1d does in training mode: running_mean = (1-m)*running_mean +
// m*batch_mean and running_var = (1-m)*running_var + m*unbiased_batch_var,
// with m = Spec.Momentum().
func (n *Net) Run() error {
	if len(n.drops) > 0 && !n.sampled {
		return errors.New("run graph: dropout masks not sampled (call SampleDropout with a non-nil rng before Run)")
	}
	for _, r := range n.bnRun {
		copy(r.mean, r.bn.RunningMean)
		copy(r.variance, r.bn.RunningVar)
	}
	defer n.rewind()
	if err := n.vm.RunAll(); err != nil {
		return fmt.Errorf("run graph: %w", err)
	}
	if len(n.bnBatch) > 0 && !n.deferStats {
		n.updateRunningStats()
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
// The returned slice is reused by the next call.
func (n *Net) Grads() ([][]float32, error) {
	if n.grads == nil {
		return nil, errors.New("not a training graph")
	}
	if n.gradBuf == nil {
		n.gradBuf = make([][]float32, len(n.grads))
	}
	out := n.gradBuf // reused: the training step allocates nothing here
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

// UseInput makes the graph read its next input from x (Batch() rows of
// Input features) instead of copying x into Input(): the caller must leave
// x unchanged until Run returns. Input() returns x afterwards.
func (n *Net) UseInput(x []float32) error {
	if len(x) != n.batch*n.spec.Input {
		return fmt.Errorf("input has %d values, the graph needs %d", len(x), n.batch*n.spec.Input)
	}
	if err := G.Let(n.x, tensor.New(tensor.WithShape(n.batch, n.spec.Input), tensor.WithBacking(x))); err != nil {
		return fmt.Errorf("bind input: %w", err)
	}
	n.xBuf = x
	return nil
}
