package train

import (
	"fmt"
	"slices"

	"github.com/lepton-cli/lepton/internal/checkpoint"
)

// checkState checks a checkpoint's decoded training state, before any of
// it is used, against the checkpoint's epoch and step, the loop's model
// (its weights and normalization), its data (the number of training
// examples, the batches of an epoch, the class names) and its config
// (early stopping). It returns the first field found wrong, named as in the
// state's JSON. A checkpoint written by Snapshot for the same data always
// passes.
func (l *Loop) checkState(ck *checkpoint.Checkpoint, st *trainState) error {
	n := l.Train.Len()
	batches, steps := epochSteps(n, l.Config.Train.BatchSize, l.Model.Spec.BatchNorm)
	epoch, step := ck.Meta.Epoch, ck.Meta.Step
	if epoch < 0 {
		return fmt.Errorf("epoch %d is negative", epoch)
	}
	if len(st.History) != epoch {
		return fmt.Errorf("history holds %d epochs, but the checkpoint is at epoch %d", len(st.History), epoch)
	}
	if st.EpochStep < 0 || st.EpochStep > batches {
		return fmt.Errorf("epoch_step %d is outside [0, %d], the batches of an epoch of %d examples", st.EpochStep, batches, n)
	}
	ran := min(st.EpochStep, steps)
	if want := int64(epoch)*int64(steps) + int64(ran); step != want {
		return fmt.Errorf("step %d, but %d epochs of %d steps and epoch_step %d make %d (is the data the run's?)",
			step, epoch, steps, st.EpochStep, want)
	}
	if st.OptimizerSteps != step {
		return fmt.Errorf("optimizer_steps %d differs from the checkpoint's step %d", st.OptimizerSteps, step)
	}
	if want := min(ran*l.Config.Train.BatchSize, n); st.Seen != want {
		return fmt.Errorf("seen %d, but the epoch's first %d steps hold %d examples", st.Seen, ran, want)
	}
	if st.Correct < 0 || st.Correct > st.Seen {
		return fmt.Errorf("correct %d is outside [0, seen %d]", st.Correct, st.Seen)
	}
	if !finite(float64(st.LossSum)) || (st.Seen == 0 && st.LossSum != 0) {
		return fmt.Errorf("loss_sum %v is not a finite sum over the %d examples seen", float64(st.LossSum), st.Seen)
	}
	if epoch == 0 && st.BestEpoch != 0 {
		return fmt.Errorf("best_epoch %d, but no epoch is complete", st.BestEpoch)
	}
	if epoch > 0 && (st.BestEpoch < 1 || st.BestEpoch > epoch) {
		return fmt.Errorf("best_epoch %d is outside [1, %d], the epochs of its history", st.BestEpoch, epoch)
	}
	for i, m := range st.History {
		if err := checkEpoch(i+1, m); err != nil {
			return fmt.Errorf("history[%d]: %w", i, err)
		}
	}
	if v := float64(st.LastLR); !finite(v) || v < 0 {
		return fmt.Errorf("last_lr %v is not a finite number >= 0", v)
	}
	if err := l.checkEarly(st, epoch); err != nil {
		return err
	}
	return l.checkModel()
}

// checkEpoch checks one history entry, the metrics of epoch.
func checkEpoch(epoch int, m EpochMetrics) error {
	if m.Epoch != epoch {
		return fmt.Errorf("epoch %d, want %d", m.Epoch, epoch)
	}
	for _, f := range []struct {
		name string
		v    float64
		acc  bool
	}{
		{"train_loss", m.TrainLoss, false}, {"train_acc", m.TrainAcc, true},
		{"val_loss", m.ValLoss, false}, {"val_acc", m.ValAcc, true}, {"lr", m.LR, false},
	} {
		switch {
		case !finite(f.v):
			return fmt.Errorf("%s %v is not finite", f.name, f.v)
		case f.acc && (f.v < 0 || f.v > 1):
			return fmt.Errorf("%s %v is outside [0, 1]", f.name, f.v)
		case f.name == "lr" && f.v < 0:
			return fmt.Errorf("lr %v is negative", f.v)
		}
	}
	return nil
}

// checkEarly checks the early-stopping state and the stopped flag against
// the config.
func (l *Loop) checkEarly(st *trainState, epoch int) error {
	es := st.EarlyStopping
	switch {
	case l.Early != nil && es == nil:
		return fmt.Errorf("early_stopping is missing, but the config enables early stopping")
	case l.Early == nil && es != nil:
		return fmt.Errorf("early_stopping is set, but the config disables early stopping")
	case l.Early == nil && st.Stopped:
		return fmt.Errorf("stopped is true, but the config disables early stopping")
	case es == nil:
		return nil
	case es.Bad < 0 || es.Bad > epoch:
		return fmt.Errorf("early_stopping.bad %d is outside [0, %d], the epochs done", es.Bad, epoch)
	case es.Seen && !finite(es.Best):
		return fmt.Errorf("early_stopping.best %v is not finite", es.Best)
	case st.Stopped && es.Bad < l.Early.Patience:
		return fmt.Errorf("stopped is true, but early_stopping.bad %d is below the patience %d", es.Bad, l.Early.Patience)
	}
	return nil
}

// checkModel checks the model rebuilt from the checkpoint: finite weights
// and normalization statistics, and the data's class names.
func (l *Loop) checkModel() error {
	params := append(l.Model.Params.Slices(), l.Model.Params.Buffers()...)
	for j, p := range params {
		if i, ok := nonFinite(p); !ok {
			return fmt.Errorf("tensor %s holds %v", l.Model.Params.Export()[j].Name, p[i])
		}
	}
	s := l.Model.Stats
	if ch := l.Train.Geometry.Channels; len(s.Mean) != ch || len(s.Std) != ch {
		return fmt.Errorf("normalization of %d means and %d stds for the data's %d channels", len(s.Mean), len(s.Std), ch)
	}
	for c := range s.Mean {
		if !finite(float64(s.Mean[c])) {
			return fmt.Errorf("mean[%d] %v is not finite", c, s.Mean[c])
		}
		if !finite(float64(s.Std[c])) || !(s.Std[c] > 0) {
			return fmt.Errorf("std[%d] %v is not a finite number > 0", c, s.Std[c])
		}
	}
	if !slices.Equal(l.Model.Classes, l.Train.Classes) {
		return fmt.Errorf("classes %q differ from the data's %q", l.Model.Classes, l.Train.Classes)
	}
	return nil
}
