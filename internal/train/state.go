package train

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/jsonfloat"
	"github.com/lepton-cli/lepton/internal/optim"
)

// optimPrefix starts the names of optimizer-state tensors in checkpoints:
// "optim.<buffer>.<parameter name>", flat, in lepton's internal layout.
const optimPrefix = "optim."

// trainState is the training state stored in checkpoints besides the
// weights and optimizer buffers: everything a resumed run needs to continue
// exactly as the uninterrupted one. Random draws (shuffle order, and so on)
// are functions of (seed, epoch, position), so no generator state is needed.
type trainState struct {
	Optimizer      string          `json:"optimizer"`
	OptimizerSteps int64           `json:"optimizer_steps"`
	EpochStep      int             `json:"epoch_step"`
	LossSum        jsonfloat.Float `json:"loss_sum"`
	Correct        int             `json:"correct"`
	Seen           int             `json:"seen"`
	BestEpoch      int             `json:"best_epoch"`
	History        []EpochMetrics  `json:"history"`
	LastLR         jsonfloat.Float `json:"last_lr"`
	Schedule       json.RawMessage `json:"schedule"`
	EarlyStopping  *EarlyStopping  `json:"early_stopping,omitempty"`
	Stopped        bool            `json:"stopped"`
}

// Snapshot returns a checkpoint of the loop's whole state: weights,
// optimizer buffers and step count, position in the epoch, running sums and
// history. Wall-clock seconds are left out so that the same run always
// writes the same bytes. A parameter or optimizer buffer that is not finite
// is an error wrapping ErrDiverged: a diverged state is never saved.
func Snapshot(l *Loop) (*checkpoint.Checkpoint, error) {
	if err := l.checkFinite(); err != nil {
		return nil, err
	}
	var last EpochMetrics
	if len(l.History) > 0 {
		last = l.History[len(l.History)-1]
	}
	history := make([]EpochMetrics, len(l.History))
	for i, m := range l.History {
		m.Seconds, m.TrainSeconds = 0, 0
		history[i] = m
	}
	st := l.Opt.State()
	state, err := json.Marshal(trainState{
		Optimizer: st.Name, OptimizerSteps: st.Steps,
		EpochStep: l.EpochStep, LossSum: jsonfloat.Float(l.lossSum), Correct: l.correct, Seen: l.seen,
		BestEpoch: l.BestEpoch, History: history, LastLR: jsonfloat.Float(l.lastLR),
		Schedule: l.Sched.State(), EarlyStopping: l.Early, Stopped: l.Stopped,
	})
	if err != nil {
		return nil, fmt.Errorf("encode training state: %w", err)
	}
	ck, err := l.Model.Checkpoint(checkpoint.Meta{
		Epoch: l.Epoch,
		Step:  l.GlobalStep,
		Metrics: map[string]float64{
			"train_loss": last.TrainLoss, "train_acc": last.TrainAcc,
			"val_loss": last.ValLoss, "val_acc": last.ValAcc, "lr": last.LR,
		},
		State: state,
	})
	if err != nil {
		return nil, err
	}
	names := l.Model.Params.Export()
	for buf, slices := range st.Buffers {
		for i, s := range slices {
			ck.Tensors = append(ck.Tensors, checkpoint.Tensor{
				Name:  optimPrefix + buf + "." + names[i].Name,
				Shape: []int{len(s)},
				Data:  append([]float32(nil), s...),
			})
		}
	}
	return ck, nil
}

// Position is where the run saved in a checkpoint stands.
type Position struct {
	Epoch     int  // completed epochs
	EpochStep int  // steps done in the epoch in progress
	BestEpoch int  // the best epoch so far, 0 if none
	Stopped   bool // early stopping ended the run
}

// PositionOf reads a checkpoint's position from its training state. It
// checks nothing else; Restore validates the whole state.
func PositionOf(ck *checkpoint.Checkpoint) (Position, error) {
	var st trainState
	if len(ck.Meta.State) == 0 {
		return Position{}, fmt.Errorf("%w: no training state (a checkpoint that holds weights only cannot be resumed)", checkpoint.ErrCorrupt)
	}
	if err := json.Unmarshal(ck.Meta.State, &st); err != nil {
		return Position{}, fmt.Errorf("%w: decode training state: %v", checkpoint.ErrCorrupt, err)
	}
	return Position{Epoch: ck.Meta.Epoch, EpochStep: st.EpochStep, BestEpoch: st.BestEpoch, Stopped: st.Stopped}, nil
}

// Restore sets the loop's state from a checkpoint written by Snapshot. The
// loop's model must already hold the checkpoint's weights
// (classifier.FromCheckpoint). Every field of the training state is checked
// against the loop's model, data and config first (checkState); a bad one
// is an error wrapping checkpoint.ErrCorrupt that names it, and nothing is
// changed.
func (l *Loop) Restore(ck *checkpoint.Checkpoint) error {
	var st trainState
	if len(ck.Meta.State) == 0 {
		return fmt.Errorf("%w: no training state (a checkpoint that holds weights only cannot be resumed)", checkpoint.ErrCorrupt)
	}
	if err := json.Unmarshal(ck.Meta.State, &st); err != nil {
		return fmt.Errorf("%w: decode training state: %v", checkpoint.ErrCorrupt, err)
	}
	cur := l.Opt.State()
	if st.Optimizer != cur.Name {
		return fmt.Errorf("%w: training state: optimizer %q, but the config's optimizer is %q", checkpoint.ErrCorrupt, st.Optimizer, cur.Name)
	}
	names := l.Model.Params.Export()
	bufs := map[string][][]float32{}
	for buf, slices := range cur.Buffers {
		restored := make([][]float32, len(slices))
		for i := range slices {
			name := optimPrefix + buf + "." + names[i].Name
			t, err := ck.Tensor(name)
			if err != nil {
				return fmt.Errorf("%w: optimizer state: %v (best checkpoints hold weights only: resume from the run directory, whose checkpoints/last.safetensors holds it)", checkpoint.ErrCorrupt, err)
			}
			if len(t.Data) != len(slices[i]) {
				return fmt.Errorf("%w: optimizer state: tensor %q has %d values for a parameter of %d", checkpoint.ErrCorrupt, name, len(t.Data), len(slices[i]))
			}
			if i, ok := nonFinite(t.Data); !ok {
				return fmt.Errorf("%w: optimizer state: tensor %q holds %v at index %d", checkpoint.ErrCorrupt, name, t.Data[i], i)
			}
			restored[i] = t.Data
		}
		bufs[buf] = restored
	}
	if err := l.checkState(ck, &st); err != nil {
		return fmt.Errorf("%w: training state: %v", checkpoint.ErrCorrupt, err)
	}
	sched := l.Sched.State()
	if err := l.Sched.SetState(st.Schedule); err != nil {
		return fmt.Errorf("%w: training state: schedule: %v", checkpoint.ErrCorrupt, err)
	}
	if err := l.Opt.SetState(optim.State{Name: st.Optimizer, Steps: st.OptimizerSteps, Buffers: bufs}); err != nil {
		l.Sched.SetState(sched) // the state it had: cannot fail
		return fmt.Errorf("%w: optimizer state: %v", checkpoint.ErrCorrupt, err)
	}
	l.Epoch, l.EpochStep, l.GlobalStep = ck.Meta.Epoch, st.EpochStep, ck.Meta.Step
	l.lossSum, l.correct, l.seen = float64(st.LossSum), st.Correct, st.Seen
	l.BestEpoch, l.History, l.lastLR, l.Stopped = st.BestEpoch, st.History, float64(st.LastLR), st.Stopped
	if l.Early != nil && st.EarlyStopping != nil {
		l.Early.Best, l.Early.Seen, l.Early.Bad = st.EarlyStopping.Best, st.EarlyStopping.Seen, st.EarlyStopping.Bad
	}
	return nil
}

// checkFinite returns an error wrapping ErrDiverged when a parameter or an
// optimizer buffer holds NaN or ±Inf.
func (l *Loop) checkFinite() error {
	epoch, step := l.Epoch, 0
	if l.EpochStep > 0 {
		epoch, step = l.Epoch+1, l.EpochStep
	}
	params := append(l.Model.Params.Slices(), l.Model.Params.Buffers()...)
	for j, p := range params {
		if i, ok := nonFinite(p); !ok {
			name := l.Model.Params.Export()[j].Name // same order; its layout may differ
			return diverged(epoch, step, fmt.Sprintf("parameter %s holds %v", name, p[i]))
		}
	}
	for buf, slices := range l.Opt.State().Buffers {
		for j, s := range slices {
			if i, ok := nonFinite(s); !ok {
				return diverged(epoch, step, fmt.Sprintf("optimizer buffer %s of parameter %d holds %v at index %d", buf, j, s[i], i))
			}
		}
	}
	return nil
}

// nonFinite returns the index of the first NaN or ±Inf in v and false, or
// 0 and true when all of v is finite.
func nonFinite(v []float32) (int, bool) {
	for i, x := range v {
		if x-x != 0 { // NaN or ±Inf
			return i, false
		}
	}
	return 0, true
}

func isOptimTensor(name string) bool { return strings.HasPrefix(name, optimPrefix) }
