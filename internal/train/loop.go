// Package train owns lepton's training loop. The loop runs optimizer steps
// over seeded, shuffled mini-batches and announces events (start, step,
// epoch end, end); progress display, metric logging and checkpointing are
// listeners attached to those events, not code inside the loop.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/optim"
	"github.com/lepton-cli/lepton/internal/schedule"
)

// EpochMetrics are the measurements of one epoch, one row of metrics.csv.
type EpochMetrics struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"` // wall-clock seconds of the epoch, validation included
	// TrainSeconds is the wall-clock time of the epoch's training steps
	// alone (report.json only; metrics.csv keeps its documented columns).
	TrainSeconds float64 `json:"train_seconds"`
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
	Best    bool // this epoch has the best monitored metric so far
	Stopped bool // early stopping ends training after this epoch
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

	// Sched gives the learning rate of every step.
	Sched schedule.Schedule
	// Early is the early-stopping rule; nil when disabled.
	Early *EarlyStopping
	// Stopped is set when early stopping ended training before Config.Train.Epochs.
	Stopped bool

	// Running sums of the epoch in progress, so that a run resumed in the
	// middle of an epoch reports the same epoch metrics.
	lossSum       float64
	correct, seen int
	lastLR        float64

	steps   *model.Shards // training steps per batch size
	workers int           // goroutines a step's shards run on
}

// NewLoop prepares a loop for training m's parameters on train, validating on val.
func NewLoop(cfg *config.Config, m *classifier.Model, train, val *data.Dataset) (*Loop, error) {
	var sizes []int
	for _, s := range m.Params.Slices() {
		sizes = append(sizes, len(s))
	}
	workers := cfg.Train.Threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	settings := cfg.Train.Optimizer.Settings(m.Params.NoDecay())
	// The update shares the cores the run computes on (its bits do not
	// depend on how many).
	settings.Threads = workers
	opt, err := optim.New(settings, sizes)
	if err != nil {
		return nil, err
	}
	// The schedule counts the steps that run: a final batch of one example
	// skipped under batch norm is no step.
	_, steps := epochSteps(train.Len(), cfg.Train.BatchSize, m.Spec.BatchNorm)
	sched, err := schedule.New(cfg.Train.Schedule.Settings(), cfg.Train.Optimizer.LR, steps, cfg.Train.Epochs)
	if err != nil {
		return nil, fmt.Errorf("train.schedule: %w", err)
	}
	shards, err := model.NewShards(m.Spec, m.Params, cfg.Train.Shards)
	if err != nil {
		return nil, fmt.Errorf("train.shards: %w", err)
	}
	l := &Loop{Config: cfg, Model: m, Opt: opt, Train: train, Val: val, Sched: sched,
		steps: shards, workers: workers}
	if es := cfg.Train.EarlyStopping; es.Enabled {
		l.Early = &EarlyStopping{Monitor: es.Monitor, Patience: es.Patience, MinDelta: es.MinDelta}
	}
	return l, nil
}

// epochSteps returns the number of batches of an epoch over n examples and
// how many of them are optimizer steps: under batch norm a final batch of
// one example is skipped (its batch statistics are undefined).
func epochSteps(n, batch int, batchNorm bool) (batches, steps int) {
	batches = (n + batch - 1) / batch
	steps = batches
	if batchNorm && n%batch == 1 {
		steps--
	}
	return batches, steps
}

// ErrDiverged is wrapped by Fit's error when training stops because a loss,
// the gradient norm or a parameter is no longer finite (NaN or ±Inf). The
// step that produced it is not applied, and nothing is saved after it.
var ErrDiverged = errors.New("training diverged")

// diverged returns the error for a non-finite value met at step (1-based)
// of epoch; step 0 means after the epoch's steps.
func diverged(epoch, step int, what string) error {
	at := fmt.Sprintf("epoch %d step %d", epoch, step)
	if step == 0 {
		at = fmt.Sprintf("epoch %d", epoch)
	}
	return fmt.Errorf("%s: %w: %s", at, ErrDiverged, what)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// monitor returns the metric that decides the best epoch: early stopping's
// monitored metric when enabled, else validation accuracy.
func (l *Loop) monitor() string {
	if l.Early != nil {
		return l.Early.Monitor
	}
	return "val_acc"
}

// Best returns the metrics of the best epoch so far.
func (l *Loop) Best() (EpochMetrics, bool) {
	if l.BestEpoch == 0 {
		return EpochMetrics{}, false
	}
	return l.History[l.BestEpoch-1], true
}

// Close releases the loop's graphs.
func (l *Loop) Close() error {
	l.steps.Close()
	return l.Model.Close()
}

// Fit trains until Config.Train.Epochs epochs are complete, early stopping
// ends training, or ctx is cancelled, announcing events to the listeners in order.
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
	for l.Epoch < l.Config.Train.Epochs && !l.Stopped {
		if err := l.runEpoch(ctx, listeners); err != nil {
			return err
		}
	}
	return nil
}

// dropoutStream separates the dropout masks' random stream from the others.
const dropoutStream = 0x64726f706f7574 // "dropout"

func (l *Loop) runEpoch(ctx context.Context, listeners []Listener) error {
	start := time.Now()
	cfg := l.Config
	epoch := l.Epoch + 1
	order := data.EpochOrder(l.Train.Len(), cfg.Seed, epoch)
	batch := cfg.Train.BatchSize
	_, steps := epochSteps(len(order), batch, l.Model.Spec.BatchNorm)
	classes := l.Model.Spec.Classes
	params := l.Model.Params.Slices()
	aug := cfg.Data.Augment.Settings()
	workers := cfg.Data.Workers
	if workers <= 0 {
		workers = 1
		if aug.Scale != [2]float64{} {
			workers = 2
		}
	}
	loader := data.NewLoader(ctx, data.LoaderOptions{
		Data: l.Train, Stats: l.Model.Stats, Order: order, Batch: batch, Augment: aug,
		Seed: cfg.Seed, Epoch: epoch, StartBatch: l.EpochStep, Workers: workers,
	})
	defer loader.Close()
	smooth := cfg.Train.LabelSmoothing
	dropout := len(l.Model.Spec.Dropout) > 0
	for {
		b, ok := loader.Next()
		if !ok {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s := b.Index
		if l.Model.Spec.BatchNorm && b.Size == 1 {
			// Batch statistics of one example are undefined: skip it, as
			// PyTorch users do with drop_last.
			l.EpochStep = s + 1
			loader.Release(b)
			continue
		}
		step, err := l.steps.Step(b.Size)
		if err != nil {
			return err
		}
		if dropout {
			step.SeedDropout(cfg.Seed^dropoutStream, uint64(l.GlobalStep))
		}
		if err := step.Run(l.workers, func(_ int, net *model.Net, lo, hi int) error {
			return fill(net, b, lo, hi, l.Model.Spec.Input, classes, smooth)
		}); err != nil {
			return fmt.Errorf("epoch %d step %d: %w", epoch, s+1, err)
		}
		// A non-finite loss or gradient norm stops training before the
		// step is applied (Keras' TerminateOnNaN; PyTorch's
		// clip_grad_norm_ with error_if_nonfinite).
		loss, err := step.Loss()
		if err != nil {
			return err
		}
		if !finite(float64(loss)) {
			return diverged(epoch, s+1, fmt.Sprintf("the training loss is %v", loss))
		}
		grads, err := step.Grads()
		if err != nil {
			return err
		}
		if cfg.Train.GradClip > 0 {
			if norm, err := optim.ClipGlobalNorm(grads, cfg.Train.GradClip); err != nil {
				return diverged(epoch, s+1, fmt.Sprintf("the gradient norm is %v", norm))
			}
		}
		lr := l.Sched.LR(l.GlobalStep)
		l.Opt.Step(params, grads, lr)
		l.lastLR = lr
		logits, err := step.Logits()
		if err != nil {
			return err
		}
		for j := 0; j < b.Size; j++ {
			if model.Argmax(logits[j*classes:(j+1)*classes]) == b.Y[j] {
				l.correct++
			}
		}
		l.lossSum += float64(loss) * float64(b.Size)
		l.seen += b.Size
		loader.Release(b)
		l.GlobalStep++
		l.EpochStep = s + 1
		ev := StepEvent{Epoch: epoch, Step: s + 1, Steps: steps, GlobalStep: l.GlobalStep, Loss: l.lossSum / float64(l.seen)}
		for _, ls := range listeners {
			if err := ls.Step(l, ev); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m := EpochMetrics{Epoch: epoch, LR: l.lastLR, TrainSeconds: time.Since(start).Seconds()}
	if l.seen > 0 {
		m.TrainLoss, m.TrainAcc = l.lossSum/float64(l.seen), float64(l.correct)/float64(l.seen)
	}
	if l.Val != nil && l.Val.Len() > 0 {
		res, err := l.Model.Evaluate(ctx, l.Val, 1)
		if err != nil {
			return fmt.Errorf("validate epoch %d: %w", epoch, err)
		}
		m.ValLoss, m.ValAcc = res.Loss, res.Report.Accuracy
		if !finite(m.ValLoss) {
			return diverged(epoch, 0, fmt.Sprintf("the validation loss is %v", m.ValLoss))
		}
	}
	m.Seconds = time.Since(start).Seconds()
	l.Epoch, l.EpochStep = epoch, 0
	l.lossSum, l.correct, l.seen = 0, 0, 0
	l.History = append(l.History, m)
	best := false
	if b, ok := l.Best(); !ok || l.score(m) > l.score(b) {
		l.BestEpoch, best = epoch, true
	}
	l.Sched.EpochEnd(epoch, metricOf(m, l.Config.Train.Schedule.Monitor))
	if l.Early != nil && l.Early.Observe(metricOf(m, l.Early.Monitor)) {
		l.Stopped = true
	}
	for _, ls := range listeners {
		if err := ls.EpochEnd(l, EpochEvent{Metrics: m, Best: best, Stopped: l.Stopped}); err != nil {
			return err
		}
	}
	return nil
}

// fill binds the rows [lo, hi) of batch b to a shard's graph: their
// images as its input and their labels, smoothed by smooth over classes,
// as its targets.
func fill(net *model.Net, b *data.Batch, lo, hi, input, classes int, smooth float64) error {
	if err := net.UseInput(b.X[lo*input : hi*input]); err != nil {
		return err
	}
	targets := net.Targets()
	for j := lo; j < hi; j++ {
		row := targets[(j-lo)*classes : (j-lo+1)*classes]
		for k := range row {
			row[k] = float32(smooth / float64(classes))
		}
		row[b.Y[j]] += float32(1 - smooth)
	}
	return nil
}

// metricOf returns the named epoch metric.
func metricOf(m EpochMetrics, name string) float64 {
	switch name {
	case "val_loss":
		return m.ValLoss
	case "train_loss":
		return m.TrainLoss
	case "train_acc":
		return m.TrainAcc
	}
	return m.ValAcc
}

// score is what "best" means, larger is better: the monitored metric
// (validation accuracy by default, negated for a loss), or training
// accuracy when there is no validation split.
func (l *Loop) score(m EpochMetrics) float64 {
	if l.Val == nil || l.Val.Len() == 0 {
		return m.TrainAcc
	}
	v := metricOf(m, l.monitor())
	if config.MonitorMode(l.monitor()) == "min" {
		return -v
	}
	return v
}
