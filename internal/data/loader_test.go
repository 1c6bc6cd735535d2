package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// collect runs a loader to the end and returns copies of its batches.
func collect(t testing.TB, o LoaderOptions) []Batch {
	t.Helper()
	l := NewLoader(context.Background(), o)
	defer l.Close()
	var out []Batch
	for {
		b, ok := l.Next()
		if !ok {
			return out
		}
		out = append(out, Batch{Index: b.Index, Size: b.Size, X: slices.Clone(b.X), Y: slices.Clone(b.Y)})
		l.Release(b)
	}
}

func equalBatches(t *testing.T, name string, got, want []Batch) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d batches, want %d", name, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Index != w.Index || g.Size != w.Size || !slices.Equal(g.Y, w.Y) || !slices.Equal(g.X, w.X) {
			t.Fatalf("%s: batch %d (index %d, size %d) differs from index %d, size %d", name, i, g.Index, g.Size, w.Index, w.Size)
		}
	}
}

// TestLoaderPlainMatchesFill checks that without augmentation the batches
// are exactly Fill's, in order, with a smaller last batch.
func TestLoaderPlainMatchesFill(t *testing.T) {
	d := synth(23, 1)
	stats := ComputeStats(d)
	order := EpochOrder(d.Len(), 5, 1)
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			got := collect(t, LoaderOptions{Data: d, Stats: stats, Order: order, Batch: 5, Workers: workers, Prefetch: 1})
			if len(got) != 5 {
				t.Fatalf("%d batches, want 5", len(got))
			}
			for i, b := range got {
				idx := order[i*5 : min(i*5+5, len(order))]
				x, y := make([]float32, len(idx)*imageSize), make([]int, len(idx))
				Fill(x, y, d, idx, stats)
				if b.Index != i || b.Size != len(idx) || len(b.X) != len(x) || !slices.Equal(b.X, x) || !slices.Equal(b.Y, y) {
					t.Fatalf("batch %d (index %d, size %d) differs from Fill of %v", i, b.Index, b.Size, idx)
				}
			}
		})
	}
}

// TestLoaderDeterministic checks that augmented batches depend only on the
// seed, epoch and positions: not on the number of workers, the prefetch
// depth or the batch the epoch starts at.
func TestLoaderDeterministic(t *testing.T) {
	d := synth(50, 2)
	o := LoaderOptions{
		Data: d, Stats: ComputeStats(d), Order: EpochOrder(d.Len(), 9, 3), Batch: 8,
		Augment: Augment{Flip: true, Pad: 4, Scale: [2]float64{0.6, 1}}, Seed: 9, Epoch: 3,
	}
	ref := collect(t, o)
	if len(ref) != 7 || ref[6].Size != 2 {
		t.Fatalf("%d batches, last of size %d; want 7, last of 2", len(ref), ref[len(ref)-1].Size)
	}
	tests := []struct {
		name                  string
		workers, prefetch, at int
	}{
		{"workers 3", 3, 2, 0},
		{"workers 2 prefetch 5", 2, 5, 0},
		{"start at batch 4", 1, 2, 4},
		{"start at batch 4 with 3 workers", 3, 1, 4},
		{"start at the last batch", 2, 2, 6},
		{"start past the end", 2, 2, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := o
			p.Workers, p.Prefetch, p.StartBatch = tc.workers, tc.prefetch, tc.at
			equalBatches(t, tc.name, collect(t, p), ref[min(tc.at, len(ref)):])
		})
	}
	// The augmentation really depends on the seed and the epoch.
	for _, change := range []func(*LoaderOptions){
		func(p *LoaderOptions) { p.Seed++ },
		func(p *LoaderOptions) { p.Epoch++ },
	} {
		p := o
		change(&p)
		if other := collect(t, p); slices.Equal(other[0].X, ref[0].X) {
			t.Fatal("changing the seed or epoch did not change the augmentation")
		}
	}
}

// TestLoaderAugmentSeeding checks the documented seeding: the example at
// position p of epoch e is augmented with a PCG seeded (Seed, e<<32|p).
func TestLoaderAugmentSeeding(t *testing.T) {
	d := synth(10, 3)
	stats := Stats{Mean: []float32{0.5, 0.5, 0.5}, Std: []float32{0.25, 0.25, 0.25}}
	a := Augment{Flip: true, Pad: 2}
	order := []int{3, 1, 4, 1, 5, 9, 2, 6}
	batches := collect(t, LoaderOptions{Data: d, Stats: stats, Order: order, Batch: 3, Augment: a, Seed: 77, Epoch: 2})
	img := make([]byte, imageSize)
	want := make([]float32, imageSize)
	for p, id := range order {
		apply(a, img, d.Image(id), rand.New(rand.NewPCG(77, 2<<32|uint64(p))))
		stats.Normalize(want, img)
		b := batches[p/3]
		if got := b.X[(p%3)*imageSize : (p%3+1)*imageSize]; !slices.Equal(got, want) {
			t.Fatalf("position %d: augmented image differs", p)
		}
		if b.Y[p%3] != int(d.Labels[id]) {
			t.Fatalf("position %d: label %d, want %d", p, b.Y[p%3], d.Labels[id])
		}
	}
}

// TestLoaderReusesBuffers checks that released batches are recycled: a long
// epoch uses no more buffers than the pipeline holds.
func TestLoaderReusesBuffers(t *testing.T) {
	d := synth(200, 4)
	l := NewLoader(context.Background(), LoaderOptions{Data: d, Order: EpochOrder(d.Len(), 1, 1), Batch: 2, Workers: 2, Prefetch: 2, Augment: Augment{Flip: true}})
	defer l.Close()
	buffers := map[*float32]bool{}
	n := 0
	for {
		b, ok := l.Next()
		if !ok {
			break
		}
		buffers[&b.X[0]] = true
		n++
		l.Release(b)
	}
	if n != 100 {
		t.Fatalf("%d batches, want 100", n)
	}
	// Window of Prefetch+Workers = 4 in flight, plus the caller's.
	if len(buffers) > 5 {
		t.Fatalf("%d distinct buffers for %d batches", len(buffers), n)
	}
}

// TestLoaderStops checks that cancelling the context or closing the loader
// ends Next and stops the workers, also when the caller stops early.
func TestLoaderStops(t *testing.T) {
	d := synth(64, 5)
	o := LoaderOptions{Data: d, Order: EpochOrder(d.Len(), 1, 1), Batch: 4, Workers: 2}
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		l := NewLoader(ctx, o)
		defer l.Close()
		if _, ok := l.Next(); !ok {
			t.Fatal("no first batch")
		}
		cancel()
		if _, ok := l.Next(); ok {
			t.Fatal("Next returned a batch after cancellation")
		}
		closeWithin(t, l)
	})
	t.Run("close early", func(t *testing.T) {
		l := NewLoader(context.Background(), o)
		if _, ok := l.Next(); !ok {
			t.Fatal("no first batch")
		}
		closeWithin(t, l)
		if _, ok := l.Next(); ok {
			t.Fatal("Next returned a batch after Close")
		}
		l.Close() // twice is fine
		l.Release(nil)
	})
	t.Run("empty", func(t *testing.T) {
		l := NewLoader(context.Background(), LoaderOptions{Batch: 4})
		if _, ok := l.Next(); ok {
			t.Fatal("batch from an empty order")
		}
		if l.Batches() != 0 {
			t.Fatalf("Batches() = %d, want 0", l.Batches())
		}
		closeWithin(t, l)
	})
}

func closeWithin(t *testing.T, l *Loader) {
	t.Helper()
	done := make(chan struct{})
	go func() { l.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return: workers stuck")
	}
}

func TestNewLoaderPanics(t *testing.T) {
	d := synth(3, 6)
	tests := []struct {
		name string
		o    LoaderOptions
	}{
		{"zero batch", LoaderOptions{Data: d, Order: []int{0}}},
		{"negative start", LoaderOptions{Data: d, Order: []int{0}, Batch: 1, StartBatch: -1}},
		{"index out of range", LoaderOptions{Data: d, Order: []int{0, 3}, Batch: 1}},
		{"negative index", LoaderOptions{Data: d, Order: []int{-1}, Batch: 1}},
		{"no data", LoaderOptions{Order: []int{0}, Batch: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("accepted")
				}
			}()
			NewLoader(context.Background(), tc.o).Close()
		})
	}
}

// BenchmarkLoader measures the loader's throughput in images/s over an
// epoch of 40,000 random images in batches of 128, with and without
// augmentation. The consumer does nothing but release the batches.
func BenchmarkLoader(b *testing.B) {
	const n = 40000
	d := &Dataset{Geometry: cifar, Images: make([]byte, n*imageSize), Labels: make([]uint8, n)}
	r := rand.NewPCG(1, 2)
	for i := 0; i < len(d.Images); i += 8 {
		v := r.Uint64()
		for k := range 8 {
			d.Images[i+k] = byte(v >> (8 * k))
		}
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(i % numClasses)
	}
	stats := ComputeStats(d)
	order := EpochOrder(n, 1, 1)
	cases := []struct {
		name string
		a    Augment
	}{
		{"none", Augment{}},
		{"flip+pad4", Augment{Flip: true, Pad: 4}},
		{"flip+pad4+scale", Augment{Flip: true, Pad: 4, Scale: [2]float64{0.35, 1}}},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", c.name, workers), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					l := NewLoader(context.Background(), LoaderOptions{Data: d, Stats: stats, Order: order, Batch: 128, Augment: c.a, Seed: 1, Epoch: i, Workers: workers})
					for {
						bt, ok := l.Next()
						if !ok {
							break
						}
						l.Release(bt)
					}
					l.Close()
				}
				b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "images/s")
			})
		}
	}
}
