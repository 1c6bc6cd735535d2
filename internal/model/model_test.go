package model

import (
	"math"
	"testing"
)

func TestSoftmaxCrossEntropyStable(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		label  int
		want   float64
	}{
		{name: "uniform", logits: []float32{0, 0, 0, 0}, label: 1, want: math.Log(4)},
		{name: "huge positive right", logits: []float32{1e4, 0, 0, 0}, label: 0, want: 0},
		{name: "huge positive wrong", logits: []float32{1e4, 0, 0, 0}, label: 1, want: 1e4},
		{name: "huge negative", logits: []float32{-1e4, -1e4, 0, -1e4}, label: 2, want: 0},
		{name: "mixed extremes", logits: []float32{1e4, -1e4, 1e4, -1e4}, label: 1, want: 2e4 + math.Log(2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := make([]float32, len(tc.logits))
			target[tc.label] = 1
			got := rowLoss(tc.logits, target)
			if math.IsNaN(got) || math.IsInf(got, 0) || math.Abs(got-tc.want) > 1e-6*math.Max(1, tc.want) {
				t.Fatalf("loss = %v, want %v", got, tc.want)
			}
		})
	}
}
