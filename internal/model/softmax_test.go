package model

import (
	"math"
	"testing"
)

func TestSoftmaxAndCrossEntropy(t *testing.T) {
	tests := []struct {
		name   string
		logits []float32
		label  int
		want   []float64 // softmax
	}{
		{name: "uniform", logits: []float32{0, 0}, label: 0, want: []float64{0.5, 0.5}},
		{name: "shift invariant", logits: []float32{1000, 1000, 1000, 1000}, label: 2, want: []float64{0.25, 0.25, 0.25, 0.25}},
		{name: "ordered", logits: []float32{0, float32(math.Log(3))}, label: 1, want: []float64{0.25, 0.75}},
		{name: "huge gap", logits: []float32{-1e30, 1e30}, label: 1, want: []float64{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Softmax(tc.logits)
			for i := range p {
				if math.Abs(p[i]-tc.want[i]) > 1e-7 {
					t.Fatalf("softmax %v, want %v", p, tc.want)
				}
			}
			ce := CrossEntropy(tc.logits, tc.label)
			if want := -math.Log(tc.want[tc.label]); math.Abs(ce-want) > 1e-6 {
				t.Fatalf("cross-entropy %v, want %v", ce, want)
			}
			if got, want := LogSumExp(tc.logits)-float64(tc.logits[tc.label]), ce; got != want {
				t.Fatalf("LogSumExp - logit = %v, CrossEntropy %v", got, want)
			}
		})
	}
}
