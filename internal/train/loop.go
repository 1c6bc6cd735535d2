// Package train owns lepton's training loop. The loop runs optimizer steps
// over seeded, shuffled mini-batches and announces events (start, step,
// epoch end, end); progress display, metric logging and checkpointing are
// listeners attached to those events, not code inside the loop.
package train

import (
	"context"
	"fmt"
	"time"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/optim"
)

// EpochMetrics are the measurements of one epoch, one row of metrics.csv.
type EpochMetrics struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// StepEvent is announced after every optimizer step.
type StepEvent struct {
	Epoch      int     // 1-based epoch in progress
	Step       int     // 1-based step within the epoch
	Steps      int     // steps in this epoch
	GlobalStep int64   // optimizer steps since the start of training
	Loss       float64 // running mean training loss of the epoch so far
}

// EpochEvent is announced after every epoch's validation.
type EpochEvent struct {
	Metrics EpochMetrics
	Best    bool // this epoch has the best validation accuracy so far
}

// Listener receives the loop's events. An error from a listener stops
// training and is returned by Fit.
type Listener interface {
	TrainStart(l *Loop) error
	Step(l *Loop, ev StepEvent) error
	EpochEnd(l *Loop, ev EpochEvent) error
	TrainEnd(l *Loop, err error) error
}

// Hooks is a Listener that does nothing; embed it to implement only some events.
type Hooks struct{}

// TrainStart implements Listener.
func (Hooks) TrainStart(*Loop) error { return nil }

// Step implements Listener.
func (Hooks) Step(*Loop, StepEvent) error { return nil }

// EpochEnd implements Listener.
func (Hooks) EpochEnd(*Loop, EpochEvent) error { return nil }

// TrainEnd implements Listener.
func (Hooks) TrainEnd(*Loop, error) error { return nil }

// Loop is the state of one training run.
type Loop struct {
	Config *config.Config
	Model  *classifier.Model // parameters being trained, normalization, classes
	Opt    optim.Optimizer
	Train  *data.Dataset // training split
	Val    *data.Dataset // validation split, may be empty

	Epoch      int   // completed epochs
	EpochStep  int   // steps done in the epoch in progress (0 at an epoch boundary)
	GlobalStep int64 // optimizer steps taken
	History    []EpochMetrics
	BestEpoch  int // epoch with the best validation accuracy, 0 if none yet

	// Running sums of the epoch in progress, so that a run resumed in the
	// middle of an epoch reports the same epoch metrics.
	lossSum       float64
	correct, seen int

	nets map[int]*model.Net
}

// NewLoop prepares a loop for training m's parameters on train, validating on val.
func NewLoop(cfg *config.Config, m *classifier.Model, train, val *data.Dataset) (*Loop, error) {
	o := cfg.Train.Optimizer
	var sizes []int
	for _, s := range m.Params.Slices() {
		sizes = append(sizes, len(s))
	}
	opt, err := optim.New(optim.Settings{Name: o.Name, Momentum: o.Momentum, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay}, sizes)
	if err != nil {
		return nil, err
	}
	return &Loop{Config: cfg, Model: m, Opt: opt, Train: train, Val: val}, nil
}

// Best returns the metrics of the best epoch so far.
func (l *Loop) Best() (EpochMetrics, bool) {
	if l.BestEpoch == 0 {
		return EpochMetrics{}, false
	}
	return l.History[l.BestEpoch-1], true
}

func (l *Loop) trainer(batch int) (*model.Net, error) {
	if n, ok := l.nets[batch]; ok {
		return n, nil
	}
	n, err := model.NewTrainer(l.Model.Spec, l.Model.Params, batch)
	if err != nil {
		return nil, err
	}
	if l.nets == nil {
		l.nets = map[int]*model.Net{}
	}
	l.nets[batch] = n
	return n, nil
}

// Close releases the loop's graphs.
func (l *Loop) Close() error {
	for b, n := range l.nets {
		n.Close()
		delete(l.nets, b)
	}
	return l.Model.Close()
}

// Fit trains until Config.Train.Epochs epochs are complete or ctx is
// cancelled, announcing events to the listeners in order.
func (l *Loop) Fit(ctx context.Context, listeners ...Listener) (err error) {
	for _, ls := range listeners {
		if err := ls.TrainStart(l); err != nil {
			return err
		}
	}
	defer func() {
		for _, ls := range listeners {
			if lerr := ls.TrainEnd(l, err); lerr != nil && err == nil {
				err = lerr
			}
		}
	}()
	for l.Epoch < l.Config.Train.Epochs {
		if err := l.runEpoch(ctx, listeners); err != nil {
			return err
		}
	}
	return nil
}

func (l *Loop) runEpoch(ctx context.Context, listeners []Listener) error {
	start := time.Now()
	cfg := l.Config
	epoch := l.Epoch + 1
	order := data.EpochOrder(l.Train.Len(), cfg.Seed, epoch)
	batch := cfg.Train.BatchSize
	steps := (len(order) + batch - 1) / batch
	lr := cfg.Train.Optimizer.LR
	classes := l.Model.Spec.Classes
	params := l.Model.Params.Slices()
	labels := make([]int, batch)
	for s := l.EpochStep; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		idx := order[s*batch : min((s+1)*batch, len(order))]
		net, err := l.trainer(len(idx))
		if err != nil {
			return err
		}
		data.Fill(net.Input(), labels, l.Train, idx, l.Model.Stats)
		targets := net.Targets()
		clear(targets)
		for j := range idx {
			targets[j*classes+labels[j]] = 1
		}
		if err := net.Run(); err != nil {
			return fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
		}
		grads, err := net.Grads()
		if err != nil {
			return err
		}
		l.Opt.Step(params, grads, lr)
		loss, err := net.Loss()
		if err != nil {
			return err
		}
		logits, err := net.Logits()
		if err != nil {
			return err
		}
		for j := range idx {
			if classifier.Argmax(logits[j*classes:(j+1)*classes]) == labels[j] {
				l.correct++
			}
		}
		l.lossSum += float64(loss) * float64(len(idx))
		l.seen += len(idx)
		l.GlobalStep++
		l.EpochStep = s + 1
		ev := StepEvent{Epoch: epoch, Step: s + 1, Steps: steps, GlobalStep: l.GlobalStep, Loss: l.lossSum / float64(l.seen)}
		for _, ls := range listeners {
			if err := ls.Step(l, ev); err != nil {
				return err
			}
		}
	}
	m := EpochMetrics{Epoch: epoch, LR: lr}
	if l.seen > 0 {
		m.TrainLoss, m.TrainAcc = l.lossSum/float64(l.seen), float64(l.correct)/float64(l.seen)
	}
	if l.Val != nil && l.Val.Len() > 0 {
		res, err := l.Model.Evaluate(ctx, l.Val, 1)
		if err != nil {
			return fmt.Errorf("validate epoch %d: %w", epoch, err)
		}
		m.ValLoss, m.ValAcc = res.Loss, res.Report.Accuracy
	}
	m.Seconds = time.Since(start).Seconds()
	l.Epoch, l.EpochStep = epoch, 0
	l.lossSum, l.correct, l.seen = 0, 0, 0
	l.History = append(l.History, m)
	best := false
	if b, ok := l.Best(); !ok || l.score(m) > l.score(b) {
		l.BestEpoch, best = epoch, true
	}
	for _, ls := range listeners {
		if err := ls.EpochEnd(l, EpochEvent{Metrics: m, Best: best}); err != nil {
			return err
		}
	}
	return nil
}

// score is what "best" means: validation accuracy, or training accuracy
// when there is no validation split.
func (l *Loop) score(m EpochMetrics) float64 {
	if l.Val != nil && l.Val.Len() > 0 {
		return m.ValAcc
	}
	return m.TrainAcc
}
