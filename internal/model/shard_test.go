package model

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// shardSpec is a model wide enough for the matrix products to be split
// over threads when the BLAS may.
func shardSpec(bn bool, dropout []float64) Spec {
	return Spec{Input: 512, Hidden: []int{128, 32}, Classes: 5, Activation: "relu", Init: "he",
		BatchNorm: bn, Dropout: dropout}
}

// shardInput returns a batch of inputs and one-hot targets.
func shardInput(spec Spec, batch int, seed uint64) (x, targets []float32) {
	x = make([]float32, batch*spec.Input)
	fillNormal(x, seed)
	targets = make([]float32, batch*spec.Classes)
	for r := 0; r < batch; r++ {
		targets[r*spec.Classes+(r*7+int(seed))%spec.Classes] = 1
	}
	return x, targets
}

// runStep runs one sharded step of the batch (x, targets), drawing dropout
// masks from seed, on workers goroutines.
func runStep(t *testing.T, st *Step, spec Spec, x, targets []float32, seed uint64, workers int) {
	t.Helper()
	st.SeedDropout(seed, 1)
	err := st.Run(workers, func(_ int, n *Net, lo, hi int) error {
		if err := n.UseInput(x[lo*spec.Input : hi*spec.Input]); err != nil {
			return err
		}
		copy(n.Targets(), targets[lo*spec.Classes:hi*spec.Classes])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// outcome is everything a training step produces.
type outcome struct {
	loss    float32
	logits  []float32
	grads   [][]float32
	buffers [][]float32
}

func outcomeOf(t *testing.T, st *Step, p *Params) outcome {
	t.Helper()
	loss, err := st.Loss()
	if err != nil {
		t.Fatal(err)
	}
	logits, err := st.Logits()
	if err != nil {
		t.Fatal(err)
	}
	grads, err := st.Grads()
	if err != nil {
		t.Fatal(err)
	}
	o := outcome{loss: loss, logits: slices.Clone(logits)}
	for _, g := range grads {
		o.grads = append(o.grads, slices.Clone(g))
	}
	for _, b := range p.Buffers() {
		o.buffers = append(o.buffers, slices.Clone(b))
	}
	return o
}

// TestShardCount: shards are capped by the rows, and under batch norm by
// half the rows.
func TestShardCount(t *testing.T) {
	tests := []struct {
		name         string
		count, batch int
		batchNorm    bool
		want         int
	}{
		{name: "even", count: 2, batch: 128, want: 2},
		{name: "uneven", count: 3, batch: 10, want: 3},
		{name: "more shards than rows", count: 4, batch: 3, want: 3},
		{name: "batch norm needs two rows a shard", count: 4, batch: 5, batchNorm: true, want: 2},
		{name: "batch norm batch of three", count: 2, batch: 3, batchNorm: true, want: 1},
		{name: "one row", count: 2, batch: 1, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := shardCount(tc.count, tc.batch, tc.batchNorm); got != tc.want {
				t.Fatalf("shardCount(%d, %d, %v) = %d, want %d", tc.count, tc.batch, tc.batchNorm, got, tc.want)
			}
		})
	}
}

// TestShardsMatchFullBatch: without batch norm, the sum of the shards'
// gradients is the gradient of the whole batch's mean loss (to float
// rounding, the sums being in another order), dropout included: the
// shards get the rows of the masks one graph of the batch draws.
func TestShardsMatchFullBatch(t *testing.T) {
	tests := []struct {
		name    string
		shards  int
		batch   int
		dropout []float64
	}{
		{name: "two shards", shards: 2, batch: 16},
		{name: "three uneven shards", shards: 3, batch: 10},
		{name: "two shards with dropout", shards: 2, batch: 16, dropout: []float64{0.3, 0.2}},
		{name: "four uneven shards with dropout", shards: 4, batch: 11, dropout: []float64{0, 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := shardSpec(false, tc.dropout)
			p, err := NewParams(spec, 1)
			if err != nil {
				t.Fatal(err)
			}
			randomize(p, 2)
			x, targets := shardInput(spec, tc.batch, 3)

			full, err := NewTrainer(spec, p, tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			defer full.Close()
			copy(full.Input(), x)
			copy(full.Targets(), targets)
			full.SampleDropout(rand.New(rand.NewPCG(9, 1)))
			if err := full.Run(); err != nil {
				t.Fatal(err)
			}
			wantLoss, _ := full.Loss()
			wantLogits, _ := full.Logits()
			wantGrads, _ := full.Grads()

			sh, err := NewShards(spec, p, tc.shards)
			if err != nil {
				t.Fatal(err)
			}
			defer sh.Close()
			st, err := sh.Step(tc.batch)
			if err != nil {
				t.Fatal(err)
			}
			if st.Count() != tc.shards {
				t.Fatalf("%d shards, want %d", st.Count(), tc.shards)
			}
			runStep(t, st, spec, x, targets, 9, 2)
			got := outcomeOf(t, st, p)
			if d := math.Abs(float64(got.loss - wantLoss)); d > 1e-6*math.Max(1, float64(wantLoss)) {
				t.Errorf("loss %v, full batch %v", got.loss, wantLoss)
			}
			if worst := relDiff(got.logits, wantLogits); worst > 1e-6 {
				t.Errorf("logits differ by %.2g relative", worst)
			}
			for i, g := range got.grads {
				if worst := relDiff(g, wantGrads[i]); worst > 1e-6 {
					t.Errorf("gradient %d differs from the full batch's by %.2g relative", i, worst)
				}
			}
		})
	}
}

// relDiff returns the largest difference of a and b relative to b's
// largest magnitude.
func relDiff(a, b []float32) float64 {
	var diff, scale float64
	for i := range b {
		diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// TestShardsBitsIndependentOfWorkers runs a few steps (with a plain SGD
// update between them) on 1, 2 and 3 goroutines and with a single- and a
// multi-threaded matrix multiply, and requires the same bits from all.
func TestShardsBitsIndependentOfWorkers(t *testing.T) {
	defer UseThreads(0)
	tests := []struct {
		name    string
		shards  int
		batch   int
		bn      bool
		dropout []float64
	}{
		{name: "plain", shards: 2, batch: 64},
		{name: "batch norm and dropout", shards: 2, batch: 64, bn: true, dropout: []float64{0.2, 0.1}},
		{name: "three shards, batch norm, uneven", shards: 3, batch: 50, bn: true, dropout: []float64{0.3, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := shardSpec(tc.bn, tc.dropout)
			var want []outcome
			for _, run := range []struct{ blas, workers int }{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {2, 3}} {
				UseThreads(run.blas)
				p, err := NewParams(spec, 4)
				if err != nil {
					t.Fatal(err)
				}
				sh, err := NewShards(spec, p, tc.shards)
				if err != nil {
					t.Fatal(err)
				}
				var got []outcome
				for step := range 3 {
					batch := tc.batch
					if step == 2 {
						batch = tc.batch/2 + 1 // a short last batch
					}
					st, err := sh.Step(batch)
					if err != nil {
						t.Fatal(err)
					}
					x, targets := shardInput(spec, batch, uint64(step))
					runStep(t, st, spec, x, targets, uint64(step), run.workers)
					o := outcomeOf(t, st, p)
					got = append(got, o)
					for i, s := range p.Slices() {
						for j := range s {
							s[j] -= 0.1 * o.grads[i][j]
						}
					}
				}
				sh.Close()
				if want == nil {
					want = got
					continue
				}
				for step := range got {
					if !sameOutcome(got[step], want[step]) {
						t.Fatalf("blas threads %d, %d workers: step %d differs from 1 thread, 1 worker", run.blas, run.workers, step)
					}
				}
			}
		})
	}
}

func sameOutcome(a, b outcome) bool {
	eq := func(x, y [][]float32) bool {
		return slices.EqualFunc(x, y, func(u, v []float32) bool {
			return slices.EqualFunc(u, v, func(p, q float32) bool { return math.Float32bits(p) == math.Float32bits(q) })
		})
	}
	return math.Float32bits(a.loss) == math.Float32bits(b.loss) &&
		eq([][]float32{a.logits}, [][]float32{b.logits}) && eq(a.grads, b.grads) && eq(a.buffers, b.buffers)
}

// TestShardsOneIsTheSingleGraph: one shard is the graph NewTrainer builds,
// running statistics included, bit for bit.
func TestShardsOneIsTheSingleGraph(t *testing.T) {
	spec := shardSpec(true, []float64{0.2, 0.1})
	const batch = 32
	x, targets := shardInput(spec, batch, 5)
	var outs []outcome
	for _, sharded := range []bool{false, true} {
		p, err := NewParams(spec, 6)
		if err != nil {
			t.Fatal(err)
		}
		if sharded {
			sh, err := NewShards(spec, p, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer sh.Close()
			st, err := sh.Step(batch)
			if err != nil {
				t.Fatal(err)
			}
			runStep(t, st, spec, x, targets, 7, 2)
			outs = append(outs, outcomeOf(t, st, p))
			continue
		}
		n, err := NewTrainer(spec, p, batch)
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		copy(n.Input(), x)
		copy(n.Targets(), targets)
		n.SampleDropout(rand.New(rand.NewPCG(7, 1)))
		if err := n.Run(); err != nil {
			t.Fatal(err)
		}
		o := outcome{}
		o.loss, _ = n.Loss()
		logits, _ := n.Logits()
		o.logits = slices.Clone(logits)
		grads, _ := n.Grads()
		for _, g := range grads {
			o.grads = append(o.grads, slices.Clone(g))
		}
		for _, b := range p.Buffers() {
			o.buffers = append(o.buffers, slices.Clone(b))
		}
		outs = append(outs, o)
	}
	if !sameOutcome(outs[0], outs[1]) {
		t.Fatal("one shard differs from the single graph")
	}
}

// TestShardsPoolRunningStats: the first batch-normalized layer sees the
// same inputs in every shard as in one graph of the batch, so its running
// statistics, pooled from the shards', are the whole batch's.
func TestShardsPoolRunningStats(t *testing.T) {
	spec := shardSpec(true, nil)
	const batch = 24
	x, targets := shardInput(spec, batch, 8)
	var stats [][]float32
	for _, shards := range []int{1, 3} {
		p, err := NewParams(spec, 9)
		if err != nil {
			t.Fatal(err)
		}
		randomize(p, 10)
		sh, err := NewShards(spec, p, shards)
		if err != nil {
			t.Fatal(err)
		}
		st, err := sh.Step(batch)
		if err != nil {
			t.Fatal(err)
		}
		runStep(t, st, spec, x, targets, 1, 1)
		sh.Close()
		bn := p.Layers[0].BN
		stats = append(stats, slices.Concat(bn.RunningMean, bn.RunningVar))
	}
	if worst := relDiff(stats[1], stats[0]); worst > 1e-6 {
		t.Fatalf("pooled running statistics differ from the whole batch's by %.2g relative", worst)
	}
}

// TestNewShardsRejectsZero: a shard count below one is an error.
func TestNewShardsRejectsZero(t *testing.T) {
	if _, err := NewShards(shardSpec(false, nil), &Params{}, 0); err == nil {
		t.Fatal("NewShards accepted 0 shards")
	}
}

// TestPCGAt: a generator advanced by pcgAt continues the standard
// library's sequence where the n-th value would come.
func TestPCGAt(t *testing.T) {
	tests := []struct {
		name         string
		seed1, seed2 uint64
		n            uint64
	}{
		{name: "no advance", seed1: 1, seed2: 2, n: 0},
		{name: "one", seed1: 1, seed2: 2, n: 1},
		{name: "odd", seed1: 0x64726f706f7574 ^ 42, seed2: 17, n: 1001},
		{name: "power of two", seed1: 5, seed2: 0, n: 4096},
		{name: "large seeds", seed1: math.MaxUint64, seed2: math.MaxUint64 - 3, n: 12345},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := rand.NewPCG(tc.seed1, tc.seed2)
			for range tc.n {
				ref.Uint64()
			}
			got := pcgAt(tc.seed1, tc.seed2, tc.n)
			for i := range 10 {
				if a, b := got.Uint64(), ref.Uint64(); a != b {
					t.Fatalf("value %d after %d: %#x, want %#x", i, tc.n, a, b)
				}
			}
		})
	}
}
