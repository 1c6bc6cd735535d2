// Package classifier is a trained lepton model ready to use: the network's
// spec and parameters, the input normalization learnt from the training
// split, and the class names. It converts to and from checkpoints and runs
// batched inference for evaluation, validation and prediction.
package classifier

import (
	"context"
	"fmt"
	"math"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/model"
)

// InferenceBatch is the largest batch of one forward pass at inference.
const InferenceBatch = 500

// Model is a trained classifier.
type Model struct {
	Config  *config.Config
	Spec    model.Spec
	Params  *model.Params
	Stats   data.Stats
	Classes []string

	nets map[int]*model.Net
}

// New wraps parameters into a classifier.
func New(cfg *config.Config, p *model.Params, stats data.Stats, classes []string) *Model {
	return &Model{Config: cfg, Spec: SpecOf(cfg.Model), Params: p, Stats: stats, Classes: classes}
}

// SpecOf returns the network spec described by a model config.
func SpecOf(m config.Model) model.Spec {
	return model.Spec{
		Input:      m.Input,
		Hidden:     append([]int(nil), m.Hidden...),
		Classes:    m.Classes,
		Activation: m.Activation,
		LeakySlope: m.LeakySlope,
		Init:       m.Init,
		Dropout:    dropoutPerLayer(m.Dropout, len(m.Hidden)),
		BatchNorm:  m.BatchNorm,
		BNMomentum: m.BNMomentum,
		BNEps:      m.BNEps,
	}
}

// dropoutPerLayer expands the config's dropout (none, one value for every
// hidden layer, or one per layer) to one probability per hidden layer.
func dropoutPerLayer(p []float64, layers int) []float64 {
	switch {
	case len(p) == 0 || layers == 0:
		return nil
	case len(p) == 1:
		out := make([]float64, layers)
		for i := range out {
			out[i] = p[0]
		}
		return out
	}
	return append([]float64(nil), p...)
}

// Load reads a checkpoint file and rebuilds the classifier it holds.
func Load(path string) (*Model, *checkpoint.Checkpoint, error) {
	ck, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	m, err := FromCheckpoint(ck)
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return m, ck, nil
}

// FromCheckpoint rebuilds the classifier held by a loaded checkpoint.
func FromCheckpoint(ck *checkpoint.Checkpoint) (*Model, error) {
	cfg, err := config.Parse([]byte(ck.Meta.Config))
	if err != nil {
		return nil, fmt.Errorf("stored config: %w", err)
	}
	spec := SpecOf(cfg.Model)
	if len(ck.Meta.Classes) != spec.Classes {
		return nil, fmt.Errorf("%d class names for a model of %d classes", len(ck.Meta.Classes), spec.Classes)
	}
	p, err := model.Import(spec, func(name string) ([]int, []float32, error) {
		t, err := ck.Tensor(name)
		if err != nil {
			return nil, nil, err
		}
		return t.Shape, t.Data, nil
	})
	if err != nil {
		return nil, err
	}
	m := New(cfg, p, data.Stats{Mean: ck.Meta.Mean, Std: ck.Meta.Std}, ck.Meta.Classes)
	return m, nil
}

// Checkpoint returns a checkpoint of the model's weights with meta's other
// fields kept; the caller may append more tensors (optimizer state).
func (m *Model) Checkpoint(meta checkpoint.Meta) (*checkpoint.Checkpoint, error) {
	y, err := m.Config.YAML()
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	meta.FormatVersion = checkpoint.FormatVersion
	meta.Config = string(y)
	meta.Classes = m.Classes
	meta.Mean, meta.Std = m.Stats.Mean, m.Stats.Std
	ck := &checkpoint.Checkpoint{Meta: meta}
	for _, n := range m.Params.Export() {
		ck.Tensors = append(ck.Tensors, checkpoint.Tensor{Name: n.Name, Shape: n.Shape, Data: n.Data})
	}
	return ck, nil
}

// net returns the cached inference graph for a batch size.
func (m *Model) net(batch int) (*model.Net, error) {
	if n, ok := m.nets[batch]; ok {
		return n, nil
	}
	n, err := model.NewPredictor(m.Spec, m.Params, batch)
	if err != nil {
		return nil, err
	}
	if m.nets == nil {
		m.nets = map[int]*model.Net{}
	}
	m.nets[batch] = n
	return n, nil
}

// Close releases the inference graphs.
func (m *Model) Close() error {
	for b, n := range m.nets {
		n.Close()
		delete(m.nets, b)
	}
	return nil
}

// Logits runs the network over n inputs in batches. fill writes input i
// (already normalized, Spec.Input values) into dst; each row of logits is
// passed to out with its index. out must not keep the slice.
func (m *Model) Logits(ctx context.Context, n int, fill func(i int, dst []float32), out func(i int, logits []float32)) error {
	in, classes := m.Spec.Input, m.Spec.Classes
	for start := 0; start < n; start += InferenceBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		size := min(InferenceBatch, n-start)
		net, err := m.net(size)
		if err != nil {
			return err
		}
		x := net.Input()
		for j := 0; j < size; j++ {
			fill(start+j, x[j*in:(j+1)*in])
		}
		if err := net.Run(); err != nil {
			return err
		}
		logits, err := net.Logits()
		if err != nil {
			return err
		}
		for j := 0; j < size; j++ {
			out(start+j, logits[j*classes:(j+1)*classes])
		}
	}
	return nil
}

// Result is the outcome of evaluating a model on a labelled dataset.
type Result struct {
	Loss   float64 // mean softmax cross-entropy
	Report metrics.Report
	Pred   []int // predicted class per example
}

// Evaluate runs the model over every example of ds and measures it; k is
// the k of the top-k accuracy.
func (m *Model) Evaluate(ctx context.Context, ds *data.Dataset, k int) (*Result, error) {
	if len(ds.Classes) > 0 && len(ds.Classes) != m.Spec.Classes {
		return nil, fmt.Errorf("dataset has %d classes, the model %d", len(ds.Classes), m.Spec.Classes)
	}
	acc := metrics.NewAccumulator(m.Classes, k)
	res := &Result{Pred: make([]int, ds.Len())}
	var lossSum float64
	err := m.Logits(ctx, ds.Len(),
		func(i int, dst []float32) { m.Stats.Normalize(dst, ds.Image(i)) },
		func(i int, logits []float32) {
			label := int(ds.Labels[i])
			lossSum += CrossEntropy(logits, label)
			acc.Add(label, logits)
			res.Pred[i] = Argmax(logits)
		})
	if err != nil {
		return nil, err
	}
	if ds.Len() > 0 {
		res.Loss = lossSum / float64(ds.Len())
	}
	res.Report = acc.Report()
	return res, nil
}

// Softmax returns the probabilities of a row of logits, computed stably.
func Softmax(logits []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	out := make([]float64, len(logits))
	var s float64
	for i, v := range logits {
		out[i] = math.Exp(float64(v) - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

// CrossEntropy is -log softmax(logits)[label], computed stably.
func CrossEntropy(logits []float32, label int) float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	return math.Log(s) + m - float64(logits[label])
}

// Argmax returns the index of the largest value, the lowest on ties.
func Argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}
