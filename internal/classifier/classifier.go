// Package classifier is a trained lepton model ready to use: the network's
// spec and parameters, the images it takes (geometry, normalization learnt
// from the training split), its class names and the data set it was
// trained on. It converts to and from checkpoints — through the
// checkpoint's model description, never the training config — and runs
// batched inference for evaluation, validation and prediction.
package classifier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/model"
)

// InferenceBatch is the largest batch of one forward pass at inference.
const InferenceBatch = 500

// optimPrefix starts the names of the optimizer-state tensors that last
// checkpoints hold besides the model's (see train.Snapshot).
const optimPrefix = "optim."

// Model is a trained classifier.
type Model struct {
	// Spec is the network. Loaded from a checkpoint, it holds what
	// inference needs (no dropout; Init and BNMomentum are defaults); a
	// training run sets its config's spec.
	Spec   model.Spec
	Params *model.Params
	// Geometry is the shape of the images the network takes
	// (Geometry.Size() == Spec.Input), in planar CHW order.
	Geometry data.Geometry
	// Stats is the per-channel input normalization.
	Stats data.Stats
	// Classes are the class names, indexed by output.
	Classes []string
	// Data names the data set the model was trained on.
	Data checkpoint.DataSource
	// TrainConfig is the resolved YAML config of the training run, stored
	// in checkpoints for resume and provenance; nothing here reads it.
	TrainConfig string

	nets *model.Cache // inference graphs per batch size
}

// New wraps parameters into a classifier of images of geometry g, checking
// that the spec, the geometry, the normalization and the class names agree.
func New(spec model.Spec, p *model.Params, g data.Geometry, stats data.Stats, classes []string) (*Model, error) {
	m := &Model{Spec: spec, Params: p, Geometry: g, Stats: stats, Classes: classes}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// check reports a model whose parts disagree.
func (m *Model) check() error {
	if err := m.Geometry.Validate(); err != nil {
		return fmt.Errorf("model input: %w", err)
	}
	if m.Spec.Input != m.Geometry.Size() {
		return fmt.Errorf("model input is %d values, its %s images have %d", m.Spec.Input, m.Geometry, m.Geometry.Size())
	}
	if len(m.Stats.Mean) != m.Geometry.Channels || len(m.Stats.Std) != m.Geometry.Channels {
		return fmt.Errorf("normalization of %d channels for %s images", len(m.Stats.Mean), m.Geometry)
	}
	if len(m.Classes) != m.Spec.Classes {
		return fmt.Errorf("%d class names for a model of %d classes", len(m.Classes), m.Spec.Classes)
	}
	if len(m.Params.Layers) == 0 || m.Params.Layers[0].In != m.Spec.Input || m.Params.Layers[len(m.Params.Layers)-1].Out != m.Spec.Classes {
		return errors.New("parameters do not fit the model spec")
	}
	return nil
}

// ImageShape returns the shape input images are converted to for this
// model: its geometry, fitted the way its training data was (see
// imaging.Shape).
func (m *Model) ImageShape() imaging.Shape {
	fit := imaging.Stretch
	if f, err := imaging.ParseFit(m.Data.Resize); err == nil {
		fit = f
	}
	return imaging.Shape{Width: m.Geometry.Width, Height: m.Geometry.Height, Channels: m.Geometry.Channels, Fit: fit}
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

// FromCheckpoint rebuilds the classifier held by a loaded checkpoint from
// its model description (checkpoint.ModelCard). Every tensor of the model
// must be present with the shape the description gives, and every other
// tensor must be optimizer state: a description that differs from the
// tensors is an error naming the tensor and both shapes. Its errors match
// checkpoint.ErrUnusable.
func FromCheckpoint(ck *checkpoint.Checkpoint) (*Model, error) {
	m, err := fromCheckpoint(ck)
	return m, checkpoint.Unusable(err)
}

func fromCheckpoint(ck *checkpoint.Checkpoint) (*Model, error) {
	card := ck.Meta.Model
	spec := model.Spec{
		Input:      card.Input.Size(),
		Hidden:     slices.Clone(card.Hidden),
		Classes:    len(card.Classes),
		Activation: card.Activation,
		LeakySlope: card.LeakySlope,
		Init:       "he", // not used by inference
		BatchNorm:  card.BatchNorm,
		BNEps:      card.BNEps,
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("model description: %w", err)
	}
	used := map[string]bool{}
	p, err := model.Import(spec, func(name string) ([]int, []float32, error) {
		used[name] = true
		t, err := ck.Tensor(name)
		if err != nil {
			return nil, nil, err
		}
		return t.Shape, t.Data, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w (model description: %s)", err, describe(card))
	}
	for _, t := range ck.Tensors {
		if !used[t.Name] && !strings.HasPrefix(t.Name, optimPrefix) {
			return nil, fmt.Errorf("tensor %s %v is not part of the described model (%s)", t.Name, t.Shape, describe(card))
		}
	}
	g := data.Geometry{Height: card.Input.Height, Width: card.Input.Width, Channels: card.Input.Channels}
	stats := data.Stats{Mean: slices.Clone(card.Normalization.Mean), Std: slices.Clone(card.Normalization.Std)}
	m, err := New(spec, p, g, stats, slices.Clone(card.Classes))
	if err != nil {
		return nil, fmt.Errorf("model description: %w", err)
	}
	m.Data = card.Data
	m.TrainConfig = ck.Meta.Config
	return m, nil
}

// describe summarizes a model description for messages.
func describe(c checkpoint.ModelCard) string {
	bn := ""
	if c.BatchNorm {
		bn = ", batch norm"
	}
	return fmt.Sprintf("%s input, hidden %v, %s%s, %d classes", c.Input, c.Hidden, c.Activation, bn, len(c.Classes))
}

// Card returns the model's description as checkpoints store it.
func (m *Model) Card() checkpoint.ModelCard {
	hidden := slices.Clone(m.Spec.Hidden)
	if hidden == nil {
		hidden = []int{}
	}
	return checkpoint.ModelCard{
		Architecture:  checkpoint.Architecture,
		Input:         checkpoint.Input{Height: m.Geometry.Height, Width: m.Geometry.Width, Channels: m.Geometry.Channels, Layout: checkpoint.LayoutCHW},
		Normalization: checkpoint.Normalization{Mean: slices.Clone(m.Stats.Mean), Std: slices.Clone(m.Stats.Std)},
		Hidden:        hidden,
		Activation:    m.Spec.Activation,
		LeakySlope:    m.Spec.LeakySlope,
		BatchNorm:     m.Spec.BatchNorm,
		BNEps:         m.Spec.Eps(),
		Classes:       slices.Clone(m.Classes),
		Data:          m.Data,
	}
}

// Checkpoint returns a checkpoint of the model's weights and description
// (and TrainConfig) with meta's other fields kept; the caller may append
// more tensors (optimizer state).
func (m *Model) Checkpoint(meta checkpoint.Meta) (*checkpoint.Checkpoint, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	meta.FormatVersion = checkpoint.FormatVersion
	meta.Config = m.TrainConfig
	meta.Model = m.Card()
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
	if ds.Len() > 0 && ds.Geometry != m.Geometry {
		return nil, data.Invalid(fmt.Errorf("the data set's images are %s, the model takes %s", ds.Geometry, m.Geometry))
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
