package model

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkShardedStep measures one sharded forward+backward pass with
// summed gradients (model.Step.Run) of configs/mlp.yaml's and
// configs/best.yaml's models on 1 and 2 threads, one shard and two.
func BenchmarkShardedStep(b *testing.B) {
	defer UseThreads(0)
	models := []struct {
		name  string
		spec  Spec
		batch int
	}{
		{"mlp", Spec{Input: 3072, Hidden: []int{128, 64, 32, 16}, Classes: 10, Activation: "relu", Init: "he"}, 128},
		{"best", Spec{Input: 3072, Hidden: []int{1024, 512, 256}, Classes: 10, Activation: "relu", Init: "he",
			BatchNorm: true, Dropout: []float64{0.1, 0.1, 0}}, 256},
	}
	for _, m := range models {
		for _, shards := range []int{1, 2} {
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/shards=%d/threads=%d", m.name, shards, threads), func(b *testing.B) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
					UseThreads(threads)
					benchSharded(b, m.spec, m.batch, shards, threads)
				})
			}
		}
	}
}

func benchSharded(b *testing.B, spec Spec, batch, shards, threads int) {
	p, err := NewParams(spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	sh, err := NewShards(spec, p, shards)
	if err != nil {
		b.Fatal(err)
	}
	defer sh.Close()
	st, err := sh.Step(batch)
	if err != nil {
		b.Fatal(err)
	}
	x, targets := shardInput(spec, batch, 1)
	prepare := func(_ int, n *Net, lo, hi int) error {
		if err := n.UseInput(x[lo*spec.Input : hi*spec.Input]); err != nil {
			return err
		}
		copy(n.Targets(), targets[lo*spec.Classes:hi*spec.Classes])
		return nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st.SeedDropout(1, uint64(i))
		if err := st.Run(threads, prepare); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "images/s")
}
