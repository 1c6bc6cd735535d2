// Package classifier is a trained lepton model ready to use: the network's
// spec and parameters, the input normalization learnt from the training
// split, and the class names. It converts to and from checkpoints and runs
// batched inference for evaluation, validation and prediction.
package classifier

import (
	"context"
	"fmt"
	"slices"

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

	nets *model.Cache // inference graphs per batch size
}

// New wraps parameters into a classifier.
func New(cfg *config.Config, p *model.Params, stats data.Stats, classes []string) *Model {
	return &Model{Config: cfg, Spec: cfg.Model.Spec(), Params: p, Stats: stats, Classes: classes}
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

// FromCheckpoint rebuilds the classifier held by a loaded checkpoint. Its
// errors (an invalid stored config, tensors that do not fit the model)
// match checkpoint.ErrUnusable.
func FromCheckpoint(ck *checkpoint.Checkpoint) (*Model, error) {
	m, err := fromCheckpoint(ck)
	return m, checkpoint.Unusable(err)
}

func fromCheckpoint(ck *checkpoint.Checkpoint) (*Model, error) {
	cfg, err := config.Parse([]byte(ck.Meta.Config))
	if err != nil {
		return nil, fmt.Errorf("stored config: %w", err)
	}
	spec := cfg.Model.Spec()
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
	// Format 1 holds three normalization channels; a grey model's one is
	// the first (its config records data.channels; before it, 0: RGB).
	ch := len(ck.Meta.Mean)
	if cfg.Data.Channels > 0 && cfg.Data.Channels < ch {
		ch = cfg.Data.Channels
	}
	m := New(cfg, p, data.Stats{Mean: slices.Clone(ck.Meta.Mean[:ch]), Std: slices.Clone(ck.Meta.Std[:ch])}, ck.Meta.Classes)
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
	// Format 1 stores the normalization of three channels: a grey model's
	// one channel is repeated (FromCheckpoint takes the first back).
	ch := len(m.Stats.Mean)
	if (ch != 1 && ch != len(meta.Mean)) || len(m.Stats.Std) != ch {
		return nil, fmt.Errorf("checkpoint format %d stores the normalization of 1 or %d channels, the model has %d", checkpoint.FormatVersion, len(meta.Mean), ch)
	}
	for c := range meta.Mean {
		meta.Mean[c], meta.Std[c] = m.Stats.Mean[c%ch], m.Stats.Std[c%ch]
	}
	ck := &checkpoint.Checkpoint{Meta: meta}
	for _, n := range m.Params.Export() {
		ck.Tensors = append(ck.Tensors, checkpoint.Tensor{Name: n.Name, Shape: n.Shape, Data: n.Data})
	}
	return ck, nil
}

// Close releases the inference graphs.
func (m *Model) Close() error {
	if m.nets == nil {
		return nil
	}
	return m.nets.Close()
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
		if m.nets == nil {
			m.nets = model.NewCache(m.Spec, m.Params, false)
		}
		net, err := m.nets.Net(size)
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
	if size := ds.Geometry.Size(); ds.Len() > 0 && size != m.Spec.Input {
		return nil, data.Invalid(fmt.Errorf("the data set's %s images have %d values, the model takes %d", ds.Geometry, size, m.Spec.Input))
	}
	acc := metrics.NewAccumulator(m.Classes, k)
	res := &Result{Pred: make([]int, ds.Len())}
	var lossSum float64
	err := m.Logits(ctx, ds.Len(),
		func(i int, dst []float32) { m.Stats.Normalize(dst, ds.Image(i)) },
		func(i int, logits []float32) {
			label := int(ds.Labels[i])
			lossSum += model.CrossEntropy(logits, label)
			acc.Add(label, logits)
			res.Pred[i] = model.Argmax(logits)
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
