package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
)

// stopAt ends Fit with errStop after n steps (after the epoch's end when
// the step ends an epoch).
type stopAt struct {
	Hooks
	n int64
}

var errStop = errors.New("stop")

func (s stopAt) Step(_ *Loop, ev StepEvent) error {
	if ev.GlobalStep == s.n && ev.Step != ev.Steps {
		return errStop
	}
	return nil
}

func (s stopAt) EpochEnd(l *Loop, _ EpochEvent) error {
	if l.GlobalStep == s.n {
		return errStop
	}
	return nil
}

// snapshotAfter trains a toy loop for steps steps and returns its checkpoint.
func snapshotAfter(t *testing.T, steps int64, sets ...string) *checkpoint.Checkpoint {
	t.Helper()
	l := toyLoop(t, sets...)
	if err := l.Fit(context.Background(), stopAt{n: steps}); !errors.Is(err, errStop) {
		t.Fatalf("Fit: %v", err)
	}
	ck, err := Snapshot(l)
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// withState returns a copy of ck whose training state has key set to the
// JSON value raw ("history.0.val_acc" reaches into the history).
func withState(t *testing.T, ck *checkpoint.Checkpoint, key, raw string) *checkpoint.Checkpoint {
	t.Helper()
	var st map[string]any
	if err := json.Unmarshal(ck.Meta.State, &st); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	if k, rest, ok := strings.Cut(key, ".0."); ok {
		st[k].([]any)[0].(map[string]any)[rest] = v
	} else {
		st[key] = v
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	out := *ck
	out.Meta.State = b
	return &out
}

// TestRestoreRejectsInvalidState restores checkpoints whose training state
// was altered one field at a time (digest-valid files, as a crafted or
// buggy writer makes them): each is an ErrCorrupt error naming the field,
// never a panic, and the loop is left as it was. Before the checks,
// best_epoch 99 panicked with index out of range and epoch_step -1 in
// data.NewLoader.
func TestRestoreRejectsInvalidState(t *testing.T) {
	// 40 images in batches of 8: 5 steps per epoch. At the end of epoch 1
	// (step 5), and in the middle of epoch 2 (step 7).
	end := snapshotAfter(t, 5)
	mid := snapshotAfter(t, 7)
	var st trainState
	json.Unmarshal(end.Meta.State, &st)
	if end.Meta.Epoch != 1 || st.EpochStep != 0 || len(st.History) != 1 {
		t.Fatalf("epoch-end snapshot at epoch %d step %d with %d epochs of history", end.Meta.Epoch, st.EpochStep, len(st.History))
	}
	tests := []struct {
		name, key, value string
		mid              bool
		want             string
	}{
		{name: "best epoch past the history", key: "best_epoch", value: "99", want: "best_epoch 99 is outside [1, 1]"},
		{name: "best epoch 0 after an epoch", key: "best_epoch", value: "0", want: "best_epoch 0 is outside [1, 1]"},
		{name: "empty history", key: "history", value: "[]", want: "history holds 0 epochs, but the checkpoint is at epoch 1"},
		{name: "negative epoch step", key: "epoch_step", value: "-1", want: "epoch_step -1 is outside [0, 5]"},
		{name: "epoch step past the epoch", key: "epoch_step", value: "6", want: "epoch_step 6 is outside [0, 5]"},
		{name: "epoch step against the step count", key: "epoch_step", value: "3", mid: true, want: "step 7, but 1 epochs of 5 steps and epoch_step 3 make 8"},
		{name: "optimizer steps", key: "optimizer_steps", value: "-4", want: "optimizer_steps -4 differs from the checkpoint's step 5"},
		{name: "seen", key: "seen", value: "5", mid: true, want: "seen 5, but the epoch's first 2 steps hold 16 examples"},
		{name: "correct above seen", key: "correct", value: "17", mid: true, want: "correct 17 is outside [0, seen 16]"},
		{name: "negative correct", key: "correct", value: "-1", mid: true, want: "correct -1 is outside"},
		{name: "NaN loss sum", key: "loss_sum", value: `"NaN"`, mid: true, want: "loss_sum NaN is not a finite sum"},
		{name: "loss sum with nothing seen", key: "loss_sum", value: "3", want: "loss_sum 3 is not a finite sum over the 0 examples seen"},
		{name: "history epoch number", key: "history.0.epoch", value: "7", want: "history[0]: epoch 7, want 1"},
		{name: "history accuracy", key: "history.0.val_acc", value: "2", want: "history[0]: val_acc 2 is outside [0, 1]"},
		{name: "history loss", key: "history.0.train_loss", value: `"+Inf"`, want: "history[0]: train_loss +Inf is not finite"},
		{name: "negative last lr", key: "last_lr", value: "-1", want: "last_lr -1 is not a finite number >= 0"},
		{name: "stopped without early stopping", key: "stopped", value: "true", want: "stopped is true, but the config disables early stopping"},
		{name: "early stopping state without early stopping", key: "early_stopping", value: `{"bad": 0}`, want: "early_stopping is set, but the config disables early stopping"},
		{name: "schedule", key: "schedule", value: `{"name": "cosine"}`, want: "schedule: schedule state is for \"cosine\""},
		{name: "optimizer", key: "optimizer", value: `"sgd"`, want: "optimizer \"sgd\", but the config's optimizer is \"adam\""},
		{name: "wrong type", key: "epoch_step", value: `"x"`, want: "decode training state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := end
			if tc.mid {
				base = mid
			}
			ck := withState(t, base, tc.key, tc.value)
			l := toyLoop(t)
			err := l.Restore(ck)
			if !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore: %v\nwant ErrCorrupt containing %q", err, tc.want)
			}
			if l.Epoch != 0 || l.GlobalStep != 0 || l.History != nil || l.Opt.State().Steps != 0 {
				t.Fatalf("a refused Restore changed the loop: epoch %d step %d", l.Epoch, l.GlobalStep)
			}
		})
	}
	for _, ck := range []*checkpoint.Checkpoint{end, mid} {
		if err := toyLoop(t).Restore(ck); err != nil {
			t.Fatalf("unaltered checkpoint: %v", err)
		}
	}
}

// TestRestoreRejectsEarlyStoppingMismatch: a state without early stopping
// in a run that enables it, and a stopped run that had not met its
// patience.
func TestRestoreRejectsEarlyStoppingMismatch(t *testing.T) {
	es := []string{"train.early_stopping.enabled=true", "train.early_stopping.patience=3"}
	plain := snapshotAfter(t, 5)
	if err := toyLoop(t, es...).Restore(plain); !errors.Is(err, checkpoint.ErrCorrupt) ||
		!strings.Contains(err.Error(), "early_stopping is missing, but the config enables early stopping") {
		t.Fatalf("Restore: %v", err)
	}
	withES := snapshotAfter(t, 5, es...)
	ck := withState(t, withES, "stopped", "true")
	if err := toyLoop(t, es...).Restore(ck); !errors.Is(err, checkpoint.ErrCorrupt) ||
		!strings.Contains(err.Error(), "stopped is true, but early_stopping.bad 0 is below the patience 3") {
		t.Fatalf("Restore: %v", err)
	}
	if err := toyLoop(t, es...).Restore(withES); err != nil {
		t.Fatalf("unaltered checkpoint: %v", err)
	}
}

// TestRestoreRejectsBadModel: the model rebuilt from a checkpoint must have
// finite weights and a usable normalization (std > 0) for the data's
// channels, and the data's class names.
func TestRestoreRejectsBadModel(t *testing.T) {
	ck := snapshotAfter(t, 5)
	tests := []struct {
		name  string
		spoil func(l *Loop)
		want  string
	}{
		{name: "zero std", spoil: func(l *Loop) { l.Model.Stats.Std[1] = 0 }, want: "std[1] 0 is not a finite number > 0"},
		{name: "NaN mean", spoil: func(l *Loop) { l.Model.Stats.Mean[0] = float32(math.NaN()) }, want: "mean[0] NaN is not finite"},
		{name: "channels", spoil: func(l *Loop) { l.Model.Stats.Std = l.Model.Stats.Std[:2] }, want: "normalization of 3 means and 2 stds for the data's 3 channels"},
		{name: "NaN weight", spoil: func(l *Loop) { l.Model.Params.Layers[1].B[0] = float32(math.Inf(1)) }, want: "tensor layers.1.bias holds +Inf"},
		{name: "classes", spoil: func(l *Loop) { l.Model.Classes = append([]string{"x"}, l.Model.Classes[1:]...) }, want: "differ from the data's"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := toyLoop(t)
			tc.spoil(l)
			if err := l.Restore(ck); !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore: %v, want ErrCorrupt with %q", err, tc.want)
			}
		})
	}
}
