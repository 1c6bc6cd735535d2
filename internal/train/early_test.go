package train

import (
	"testing"
)

func TestEarlyStoppingObserve(t *testing.T) {
	tests := []struct {
		name    string
		monitor string
		delta   float64
		values  []float64
		stopAt  int // index of the value after which Observe says stop; -1 never
	}{
		{name: "accuracy improving", monitor: "val_acc", values: []float64{0.1, 0.2, 0.3, 0.4}, stopAt: -1},
		{name: "accuracy flat", monitor: "val_acc", values: []float64{0.5, 0.5, 0.5}, stopAt: 2},
		{name: "loss falling", monitor: "val_loss", values: []float64{2, 1.5, 1.2, 1.1}, stopAt: -1},
		{name: "loss rising", monitor: "val_loss", values: []float64{1, 1.2, 1.3}, stopAt: 2},
		{name: "gains below min_delta", monitor: "val_acc", delta: 0.05, values: []float64{0.5, 0.52, 0.54}, stopAt: 2},
		{name: "recovery resets patience", monitor: "val_acc", values: []float64{0.5, 0.4, 0.6, 0.5, 0.5}, stopAt: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &EarlyStopping{Monitor: tc.monitor, Patience: 2, MinDelta: tc.delta}
			got := -1
			for i, v := range tc.values {
				if e.Observe(v) {
					got = i
					break
				}
			}
			if got != tc.stopAt {
				t.Fatalf("stopped after value %d, want %d", got, tc.stopAt)
			}
		})
	}
}
