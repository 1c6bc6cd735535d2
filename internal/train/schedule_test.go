package train

import (
	"context"
	"testing"
)

// lrRecorder records the learning rate of every step, by epoch.
type lrRecorder struct {
	Hooks
	lrs   map[int][]float64
	steps map[int]int
}

func (r *lrRecorder) Step(l *Loop, ev StepEvent) error {
	r.lrs[ev.Epoch] = append(r.lrs[ev.Epoch], l.lastLR)
	r.steps[ev.Epoch] = ev.Steps
	return nil
}

// TestScheduleCountsTheStepsThatRun: 41 training images in batches of 8
// make 6 batches, the last of one image, which batch norm skips. The
// schedule must count 5 steps per epoch: a step schedule halving the rate
// every epoch halves it at the first step of epoch 2. It used to count 6,
// so epoch 2's first step still had epoch 1's rate and every later decay
// came one step late per epoch.
func TestScheduleCountsTheStepsThatRun(t *testing.T) {
	tests := []struct {
		name      string
		sets      []string
		steps     int
		epoch2LRs []float64
	}{
		{name: "batch norm skips the batch of one", sets: []string{"model.batch_norm=true"}, steps: 5,
			epoch2LRs: []float64{0.005, 0.005, 0.005, 0.005, 0.005}},
		{name: "without batch norm it runs", steps: 6,
			epoch2LRs: []float64{0.005, 0.005, 0.005, 0.005, 0.005, 0.005}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := toyLoopN(t, 41, append(tc.sets, "train.schedule.name=step", "train.schedule.step_epochs=1", "train.schedule.gamma=0.5")...)
			rec := &lrRecorder{lrs: map[int][]float64{}, steps: map[int]int{}}
			if err := l.Fit(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			if rec.steps[1] != tc.steps || len(rec.lrs[1]) != tc.steps {
				t.Fatalf("epoch 1: %d steps announced, %d run; want %d", rec.steps[1], len(rec.lrs[1]), tc.steps)
			}
			for i, lr := range rec.lrs[1] {
				if lr != 0.01 {
					t.Fatalf("epoch 1 step %d: lr %v, want 0.01", i+1, lr)
				}
			}
			for i, want := range tc.epoch2LRs {
				if got := rec.lrs[2][i]; got != want {
					t.Fatalf("epoch 2 step %d: lr %v, want %v (all epoch 2: %v)", i+1, got, want, rec.lrs[2])
				}
			}
		})
	}
}
