package train

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lepton-cli/lepton/internal/model"
)

// fitState trains a toy loop to the end and returns its parameters, its
// running statistics and its history's training losses.
func fitState(t *testing.T, n int, sets ...string) (params [][]float32, losses []float64) {
	t.Helper()
	l := toyLoopN(t, n, sets...)
	if err := l.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(l.Model.Params.Slices(), l.Model.Params.Buffers()...) {
		params = append(params, slices.Clone(s))
	}
	for _, m := range l.History {
		losses = append(losses, m.TrainLoss)
	}
	return params, losses
}

// TestFitBitsAcrossThreads: with the shards fixed, training gives the same
// bits on 1 thread (shards one after the other), 2 (side by side) and 3
// (more threads than shards), with and without batch norm and dropout,
// short last batches included.
func TestFitBitsAcrossThreads(t *testing.T) {
	defer model.UseThreads(0)
	tests := []struct {
		name string
		n    int
		sets []string
	}{
		{name: "plain, last batch of 3", n: 43, sets: nil},
		{name: "batch norm and dropout, last batch of 2", n: 42,
			sets: []string{"model.batch_norm=true", "model.dropout=0.2", "data.augment.flip=true"}},
		{name: "three shards, batch norm, last batch of 1 skipped", n: 41,
			sets: []string{"train.shards=3", "model.batch_norm=true", "model.dropout=[0.1,0.3]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var wantP [][]float32
			var wantL []float64
			for _, threads := range []int{1, 2, 3} {
				model.UseThreads(threads)
				p, l := fitState(t, tc.n, append(slices.Clone(tc.sets), fmt.Sprintf("train.threads=%d", threads))...)
				if wantP == nil {
					wantP, wantL = p, l
					continue
				}
				if !slices.Equal(l, wantL) {
					t.Fatalf("%d threads: training losses %v, 1 thread %v", threads, l, wantL)
				}
				for i := range p {
					for j := range p[i] {
						if math.Float32bits(p[i][j]) != math.Float32bits(wantP[i][j]) {
							t.Fatalf("%d threads: tensor %d[%d] = %v, 1 thread %v", threads, i, j, p[i][j], wantP[i][j])
						}
					}
				}
			}
		})
	}
}

// TestFitShardsAgreeWithOneShard: without batch norm, training with two
// or three shards follows the single-graph run to float rounding (the
// gradients' sums are only in another order).
func TestFitShardsAgreeWithOneShard(t *testing.T) {
	base := []string{"train.optimizer.name=sgd", "train.optimizer.lr=0.05", "train.label_smoothing=0.1", "train.optimizer.weight_decay=0.01"}
	want, wantL := fitState(t, 43, append(slices.Clone(base), "train.shards=1")...)
	for _, shards := range []int{2, 3} {
		got, gotL := fitState(t, 43, append(slices.Clone(base), fmt.Sprintf("train.shards=%d", shards))...)
		for e := range gotL {
			if d := math.Abs(gotL[e] - wantL[e]); d > 1e-5*math.Max(1, wantL[e]) {
				t.Errorf("%d shards: epoch %d training loss %v, one shard %v", shards, e+1, gotL[e], wantL[e])
			}
		}
		for i := range got {
			var diff, scale float64
			for j := range got[i] {
				diff = math.Max(diff, math.Abs(float64(got[i][j])-float64(want[i][j])))
				scale = math.Max(scale, math.Abs(float64(want[i][j])))
			}
			if diff > 1e-5*math.Max(scale, 1e-3) {
				t.Errorf("%d shards: tensor %d differs from one shard's by %.2g (largest value %.2g)", shards, i, diff, scale)
			}
		}
	}
}
