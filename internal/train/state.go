package train

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lepton-cli/lepton/internal/checkpoint"
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
	LossSum        float64         `json:"loss_sum"`
	Correct        int             `json:"correct"`
	Seen           int             `json:"seen"`
	BestEpoch      int             `json:"best_epoch"`
	History        []EpochMetrics  `json:"history"`
	LastLR         float64         `json:"last_lr"`
	Schedule       json.RawMessage `json:"schedule"`
	EarlyStopping  *EarlyStopping  `json:"early_stopping,omitempty"`
	Stopped        bool            `json:"stopped"`
}

// Snapshot returns a checkpoint of the loop's whole state: weights,
// optimizer buffers and step count, position in the epoch, running sums and
// history. Wall-clock seconds are left out so that the same run always
// writes the same bytes.
func Snapshot(l *Loop) (*checkpoint.Checkpoint, error) {
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
		EpochStep: l.EpochStep, LossSum: l.lossSum, Correct: l.correct, Seen: l.seen,
		BestEpoch: l.BestEpoch, History: history, LastLR: l.lastLR,
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

// Restore sets the loop's state from a checkpoint written by Snapshot. The
// loop's model must already hold the checkpoint's weights (classifier.FromCheckpoint).
func (l *Loop) Restore(ck *checkpoint.Checkpoint) error {
	var st trainState
	if err := json.Unmarshal(ck.Meta.State, &st); err != nil {
		return fmt.Errorf("decode training state: %w", err)
	}
	cur := l.Opt.State()
	if st.Optimizer != cur.Name {
		return fmt.Errorf("checkpoint optimizer %q, config optimizer %q", st.Optimizer, cur.Name)
	}
	names := l.Model.Params.Export()
	bufs := map[string][][]float32{}
	for buf, slices := range cur.Buffers {
		restored := make([][]float32, len(slices))
		for i := range slices {
			name := optimPrefix + buf + "." + names[i].Name
			t, err := ck.Tensor(name)
			if err != nil {
				return fmt.Errorf("optimizer state: %w", err)
			}
			restored[i] = t.Data
		}
		bufs[buf] = restored
	}
	if err := l.Opt.SetState(optim.State{Name: st.Optimizer, Steps: st.OptimizerSteps, Buffers: bufs}); err != nil {
		return err
	}
	l.Epoch, l.EpochStep, l.GlobalStep = ck.Meta.Epoch, st.EpochStep, ck.Meta.Step
	l.lossSum, l.correct, l.seen = st.LossSum, st.Correct, st.Seen
	l.BestEpoch, l.History, l.lastLR, l.Stopped = st.BestEpoch, st.History, st.LastLR, st.Stopped
	if err := l.Sched.SetState(st.Schedule); err != nil {
		return fmt.Errorf("schedule state: %w", err)
	}
	if l.Early != nil && st.EarlyStopping != nil {
		l.Early.Best, l.Early.Seen, l.Early.Bad = st.EarlyStopping.Best, st.EarlyStopping.Seen, st.EarlyStopping.Bad
	}
	return nil
}

func isOptimTensor(name string) bool { return strings.HasPrefix(name, optimPrefix) }
