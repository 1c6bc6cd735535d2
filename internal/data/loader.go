package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// LoaderOptions configure a Loader for one epoch.
type LoaderOptions struct {
	// Data holds the examples.
	Data *Dataset
	// Stats normalize the pixels, as Stats.Normalize does.
	Stats Stats
	// Order is this epoch's order of example indices into Data (for
	// example EpochOrder's). Batch k holds the examples at positions
	// [k*Batch, (k+1)*Batch) of Order.
	Order []int
	// Batch is the batch size (>= 1). The last batch may be smaller.
	Batch int
	// Augment is applied to every example if it is Enabled.
	Augment Augment
	// Seed and Epoch seed the augmentation: the example at position p of
	// Order draws its choices from a PCG seeded with
	// (Seed, uint64(Epoch)<<32 | p), so its batch does not depend on the
	// number of workers, on timing or on StartBatch.
	Seed  uint64
	Epoch int
	// StartBatch is the first batch to produce (>= 0), to resume an epoch
	// in its middle; earlier batches are skipped without being built.
	StartBatch int
	// Workers is the number of goroutines building batches; <= 0 means 1.
	Workers int
	// Prefetch is the number of finished batches that may wait for the
	// caller; <= 0 means 2. At most Prefetch+Workers batches are finished
	// or being built ahead of the caller.
	Prefetch int
}

// Batch is one batch of normalized (and possibly augmented) examples.
type Batch struct {
	// Index is the 0-based index of the batch in the epoch.
	Index int
	// X holds Size images of Data.Geometry.Size() values each, in the
	// planar layout, normalized with the loader's Stats.
	X []float32
	// Y holds the Size labels.
	Y []int
	// Size is the number of examples.
	Size int
}

// Loader builds the batches of one epoch in worker goroutines, ahead of
// the caller, and hands them out in order. Next must be called from one
// goroutine at a time; Release and Close may be called from any goroutine.
// Buffers given back with Release are reused, so a loader whose batches are
// all released does not allocate per batch once it has filled its pipeline.
type Loader struct {
	o       LoaderOptions
	norm    *normalizer
	size    int // bytes (and values) per image
	n       int // examples
	batches int // batches in the epoch
	cur     int // index of the batch Next returns next

	ctx   context.Context
	done  chan struct{} // closed by Close
	sem   chan struct{} // one token per batch claimed by a worker and not yet returned by Next
	slots []chan *Batch // batch i is delivered in slots[i%len(slots)]
	free  chan *Batch   // released buffers
	claim atomic.Int64  // next batch index for a worker to build
	once  sync.Once
	wg    sync.WaitGroup
}

// NewLoader starts the workers of a loader for the epoch described by o;
// they stop when the epoch is built, ctx (which must not be nil) is done or
// Close is called. The caller must call Close. NewLoader panics (programmer
// errors) if o.Batch < 1, o.StartBatch < 0, or an index of o.Order is
// outside o.Data.
func NewLoader(ctx context.Context, o LoaderOptions) *Loader {
	if o.Batch < 1 {
		panic(fmt.Sprintf("data.NewLoader: batch size %d < 1", o.Batch))
	}
	if o.StartBatch < 0 {
		panic(fmt.Sprintf("data.NewLoader: start batch %d < 0", o.StartBatch))
	}
	n := 0
	if o.Data != nil {
		n = o.Data.Len()
	}
	for p, id := range o.Order {
		if id < 0 || id >= n {
			panic(fmt.Sprintf("data.NewLoader: order[%d] = %d is outside the dataset of %d examples", p, id, n))
		}
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Prefetch <= 0 {
		o.Prefetch = 2
	}
	l := &Loader{
		o:       o,
		n:       len(o.Order),
		batches: (len(o.Order) + o.Batch - 1) / o.Batch,
		cur:     o.StartBatch,
		ctx:     ctx,
		done:    make(chan struct{}),
	}
	var g Geometry
	if o.Data != nil {
		g = o.Data.Geometry
	}
	l.norm, l.size = o.Stats.normalizer(g), g.Size()
	window := o.Prefetch + o.Workers
	l.sem = make(chan struct{}, window)
	l.slots = make([]chan *Batch, window)
	for i := range l.slots {
		l.slots[i] = make(chan *Batch, 1)
	}
	l.free = make(chan *Batch, window+4)
	l.claim.Store(int64(o.StartBatch))
	workers := min(o.Workers, max(l.batches-o.StartBatch, 0))
	l.wg.Add(workers)
	for range workers {
		go l.work()
	}
	return l
}

// Batches returns the number of batches in the whole epoch, including those
// before StartBatch.
func (l *Loader) Batches() int { return l.batches }

// Next returns the next batch in order. It returns false after the last
// batch, once ctx is done or after Close. The batch belongs to the caller
// until it is given to Release.
func (l *Loader) Next() (*Batch, bool) {
	if l.cur >= l.batches || l.ctx.Err() != nil {
		return nil, false
	}
	select {
	case <-l.done:
		return nil, false
	default:
	}
	select {
	case b := <-l.slots[l.cur%len(l.slots)]:
		l.cur++
		<-l.sem
		return b, true
	case <-l.ctx.Done():
		return nil, false
	case <-l.done:
		return nil, false
	}
}

// Release gives b's buffers back to the loader for reuse. b must not be
// used afterwards. A nil b is ignored.
func (l *Loader) Release(b *Batch) {
	if b == nil {
		return
	}
	select {
	case l.free <- b:
	default: // enough spare buffers already: let the GC have it
	}
}

// Close stops the workers and waits for them to exit. Next returns false
// afterwards. Close may be called more than once.
func (l *Loader) Close() {
	l.once.Do(func() { close(l.done) })
	l.wg.Wait()
}

// work builds batches until there are none left or the loader stops.
func (l *Loader) work() {
	defer l.wg.Done()
	var (
		img []byte
		aug *Augmenter
	)
	if l.o.Augment.Enabled() {
		img = make([]byte, l.size)
		aug = NewAugmenter(l.o.Augment, l.o.Data.Geometry)
	}
	pcg := rand.NewPCG(0, 0)
	rng := rand.New(pcg)
	for {
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return
		case <-l.ctx.Done():
			return
		}
		i := int(l.claim.Add(1) - 1)
		if i >= l.batches {
			return
		}
		b := l.buffer()
		l.build(b, i, img, aug, pcg, rng)
		select {
		case l.slots[i%len(l.slots)] <- b:
		case <-l.done:
			return
		case <-l.ctx.Done():
			return
		}
	}
}

// buffer returns a released batch, or a new one.
func (l *Loader) buffer() *Batch {
	select {
	case b := <-l.free:
		if cap(b.X) >= l.o.Batch*l.size && cap(b.Y) >= l.o.Batch {
			return b
		}
	default:
	}
	return &Batch{X: make([]float32, l.o.Batch*l.size), Y: make([]int, l.o.Batch)}
}

// build fills b with batch i, augmenting with aug (nil: no augmentation)
// into the scratch image img, and drawing from rng (whose source is pcg).
func (l *Loader) build(b *Batch, i int, img []byte, aug *Augmenter, pcg *rand.PCG, rng *rand.Rand) {
	lo := i * l.o.Batch
	hi := min(lo+l.o.Batch, l.n)
	size := hi - lo
	b.Index, b.Size = i, size
	b.X = b.X[:size*l.size]
	b.Y = b.Y[:size]
	for j := range size {
		p := lo + j
		id := l.o.Order[p]
		if j+1 < size {
			l.norm.prefetch(l.o.Data.Image(l.o.Order[p+1]))
		}
		src := l.o.Data.Image(id)
		if aug != nil {
			pcg.Seed(l.o.Seed, uint64(l.o.Epoch)<<32|uint64(p))
			aug.Apply(img, src, rng)
			src = img
		}
		l.norm.image(b.X[j*l.size:(j+1)*l.size], src)
		b.Y[j] = int(l.o.Data.Labels[id])
	}
}
