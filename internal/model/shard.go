package model

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lepton-cli/lepton/internal/blas"
)

// Shards runs a model's training steps data-parallel over a fixed number
// of shards: each batch is cut into contiguous row ranges, one training
// graph per range, and the shards' gradients are summed in shard order
// (shard 0 + shard 1 + ...) into the gradient of the whole batch's mean
// loss. The number of shards, not the number of threads, fixes the
// arithmetic, so the results are the same whether the shards run one
// after the other or side by side.
//
// Each shard's loss is its rows' share of the batch's mean (the sum of its
// rows' losses divided by the batch's rows), so the sum of the shards'
// gradients is the full-batch gradient up to the order of its sums. With
// batch normalization each shard normalizes with its own rows' statistics
// ("ghost" batch normalization, as PyTorch's DataParallel without SyncBN
// does); the running statistics are updated once per step from the
// statistics of the whole batch, pooled exactly from the shards' in shard
// order. Dropout masks are drawn from one stream for the whole batch, in
// the order a single graph of the whole batch draws them (layer by layer,
// row by row), and each shard gets its rows' part.
//
// With one shard a Step is exactly the single graph NewTrainer builds, bit
// for bit. A Shards is not safe for concurrent use.
type Shards struct {
	spec   Spec
	params *Params
	count  int
	steps  map[int]*Step
}

// NewShards returns an empty cache of sharded training steps of spec over
// p, count (>= 1) shards per batch.
func NewShards(spec Spec, p *Params, count int) (*Shards, error) {
	if count < 1 {
		return nil, fmt.Errorf("shards %d must be >= 1", count)
	}
	return &Shards{spec: spec, params: p, count: count}, nil
}

// Count returns the number of shards a full batch is cut into.
func (s *Shards) Count() int { return s.count }

// shardCount returns the number of shards of a batch of batch rows: count,
// but no more than the rows, and with batch normalization no more than
// half the rows (each shard needs two rows for its statistics); at least 1.
func shardCount(count, batch int, batchNorm bool) int {
	per := 1
	if batchNorm {
		per = 2
	}
	return max(1, min(count, batch/per))
}

// Step returns the step for a batch size, building its graphs on first use.
func (s *Shards) Step(batch int) (*Step, error) {
	if st, ok := s.steps[batch]; ok {
		return st, nil
	}
	if batch < 1 {
		return nil, fmt.Errorf("batch size %d must be >= 1", batch)
	}
	count := shardCount(s.count, batch, s.spec.BatchNorm && len(s.spec.Hidden) > 0)
	st := &Step{spec: s.spec, params: s.params, batch: batch, lo: make([]int, count+1), chunks: gradChunks(s.params)}
	for k := 0; k <= count; k++ {
		st.lo[k] = k * batch / count
	}
	for k := 0; k < count; k++ {
		var (
			n   *Net
			err error
		)
		if count == 1 {
			n, err = NewTrainer(s.spec, s.params, batch)
		} else {
			n, err = build(s.spec, s.params, st.lo[k+1]-st.lo[k], true, buildOptions{lossDiv: batch, deferStats: true})
		}
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("shard %d of %d: %w", k, count, err)
		}
		st.nets = append(st.nets, n)
	}
	if s.steps == nil {
		s.steps = map[int]*Step{}
	}
	s.steps[batch] = st
	return st, nil
}

// Close releases every step's graphs; the cache may be used again afterwards.
func (s *Shards) Close() error {
	for b, st := range s.steps {
		st.Close()
		delete(s.steps, b)
	}
	return nil
}

// Step is the training step of one batch size: its shards' graphs and the
// buffers their results are combined in.
type Step struct {
	spec   Spec
	params *Params
	batch  int
	nets   []*Net
	lo     []int // shard k has the batch's rows [lo[k], lo[k+1])

	grads  [][]float32   // the summed gradients (more than one shard)
	parts  [][][]float32 // each shard's gradients
	chunks []gradChunk   // the pieces of the gradients summed in parallel
	logits []float32     // the shards' logits, concatenated
	errs   []error

	seed1, seed2 uint64 // of the dropout masks (SeedDropout)
	seeded       bool
}

// Batch returns the batch size of the step.
func (st *Step) Batch() int { return st.batch }

// Count returns the number of shards of the step.
func (st *Step) Count() int { return len(st.nets) }

// Rows returns the batch's rows [lo, hi) that shard k computes.
func (st *Step) Rows(k int) (lo, hi int) { return st.lo[k], st.lo[k+1] }

// Shard returns shard k's graph, whose Input and Targets hold its rows.
func (st *Step) Shard(k int) *Net { return st.nets[k] }

// Close releases the step's graphs.
func (st *Step) Close() error {
	for _, n := range st.nets {
		n.Close()
	}
	st.nets = nil
	return nil
}

// SeedDropout makes the next Run draw the dropout masks of the whole batch
// from rand.NewPCG(seed1, seed2), the same draws in the same order as a
// single graph of the batch makes with Net.SampleDropout(rand.New(
// rand.NewPCG(seed1, seed2))): layer by layer, row by row. Each shard
// draws its rows' part of every mask itself, on its own goroutine, from a
// generator advanced to where that part begins.
func (st *Step) SeedDropout(seed1, seed2 uint64) {
	st.seed1, st.seed2, st.seeded = seed1, seed2, true
}

// sampleDropout draws shard k's part of the batch's dropout masks.
func (st *Step) sampleDropout(k int) {
	n := st.nets[k]
	if len(n.drops) == 0 {
		return
	}
	if !st.seeded {
		n.SampleDropout(nil) // Run fails: no masks
		return
	}
	var start uint64 // where layer d's mask of the whole batch starts in the stream
	rows := uint64(st.lo[k+1] - st.lo[k])
	for _, d := range n.drops {
		out := uint64(len(d.buf)) / rows
		d.sampleFrom(pcgAt(st.seed1, st.seed2, start+uint64(st.lo[k])*out))
		start += uint64(st.batch) * out
	}
	n.sampled = true
}

// Run runs every shard: its dropout masks (see SeedDropout), then
// prepare(k, net, lo, hi), which fills shard k's Input and Targets with the
// batch's rows [lo, hi), then the shard's forward and backward passes.
// With workers >= 2 up to workers shards run at the same time, each in its
// own goroutine (prepare must be safe for that), and the same goroutines
// then sum the gradients; with workers <= 1 everything runs one after the
// other on the caller's goroutine. With batch normalization the running
// statistics are updated last. The results do not depend on workers. The
// first error, in shard order, is returned.
func (st *Step) Run(workers int, prepare func(k int, n *Net, lo, hi int) error) error {
	n := len(st.nets)
	if n == 0 {
		return errors.New("run step: closed")
	}
	if st.errs == nil {
		st.errs = make([]error, n)
		st.parts = make([][][]float32, n)
	}
	one := func(k int) {
		st.sampleDropout(k)
		err := prepare(k, st.nets[k], st.lo[k], st.lo[k+1])
		if err == nil {
			err = st.nets[k].Run()
		}
		if err == nil && n > 1 {
			st.parts[k], err = st.nets[k].Grads()
		}
		st.errs[k] = err
	}
	if workers = min(workers, n); workers <= 1 {
		for k := range n {
			one(k)
		}
		if err := st.firstError(); err != nil || n == 1 {
			return err
		}
		for c := range st.chunks {
			st.sumChunk(c)
		}
	} else {
		// Side by side, each shard's matrix products keep to its goroutine.
		release := blas.Occupy(workers - 1)
		st.runParallel(workers, one)
		release()
		if err := st.firstError(); err != nil {
			return err
		}
	}
	st.grads = st.parts[0]
	st.updateRunningStats()
	return nil
}

// firstError returns the error of the first shard that failed, if any.
func (st *Step) firstError() error {
	for k, err := range st.errs {
		if err != nil {
			if len(st.nets) > 1 {
				return fmt.Errorf("shard %d of %d: %w", k, len(st.nets), err)
			}
			return err
		}
	}
	return nil
}

// runParallel runs one(k) for every shard on workers goroutines (the
// caller's among them) and, once all have finished without error, has the
// same goroutines sum the gradients, chunk by chunk: one start of a
// goroutine per step, not one per phase (waking a sleeping thread can
// take 100 µs on a virtual machine).
func (st *Step) runParallel(workers int, one func(k int)) {
	n := len(st.nets)
	var shard, chunk, finished atomic.Int64
	var failed atomic.Bool
	all := make(chan struct{})
	work := func() {
		for k := int(shard.Add(1) - 1); k < n; k = int(shard.Add(1) - 1) {
			one(k)
			if st.errs[k] != nil {
				failed.Store(true)
			}
			if finished.Add(1) == int64(n) {
				close(all)
			}
		}
		await(all)
		if failed.Load() {
			return
		}
		for c := int(chunk.Add(1) - 1); c < len(st.chunks); c = int(chunk.Add(1) - 1) {
			st.sumChunk(c)
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// awaitSpin bounds how long await polls before blocking: a goroutine
// whose shard finished first waits for the others this long without
// giving up its thread (yielding to any other runnable goroutine).
const awaitSpin = 200 * time.Microsecond

// await returns once ch is closed, polling it for up to awaitSpin first.
func await(ch <-chan struct{}) {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case <-ch:
			return
		default:
		}
		if i%16 == 0 && time.Since(start) > awaitSpin {
			break
		}
		runtime.Gosched()
	}
	<-ch
}

// updateRunningStats folds the statistics of the whole batch, pooled
// from the shards' in shard order, into the running statistics in Params:
// the batch mean is the rows-weighted mean of the shards' means and the
// biased batch variance adds the spread of the shards' means to their
// variances, as if one graph had computed them over the whole batch.
func (st *Step) updateRunningStats() {
	m := st.spec.Momentum()
	n := float64(st.batch)
	for l, s := range st.nets[0].bnBatch {
		rm, rv := s.bn.RunningMean, s.bn.RunningVar
		for j := range rm {
			var mean float64
			for k, net := range st.nets {
				mean += float64(st.lo[k+1]-st.lo[k]) * float64(net.bnBatch[l].meanBuf[j])
			}
			mean /= n
			var m2 float64
			for k, net := range st.nets {
				d := float64(net.bnBatch[l].meanBuf[j]) - mean
				m2 += float64(st.lo[k+1]-st.lo[k]) * (float64(net.bnBatch[l].vBuf[j]) + d*d)
			}
			rm[j] = float32((1-m)*float64(rm[j]) + m*mean)
			rv[j] = float32((1-m)*float64(rv[j]) + m*m2/(n-1))
		}
	}
}

// Loss returns the mean loss over the batch of the last Run: the sum of
// the shards' shares.
func (st *Step) Loss() (float32, error) {
	if len(st.nets) == 1 {
		return st.nets[0].Loss()
	}
	var total float64
	for k, n := range st.nets {
		v, err := n.Loss()
		if err != nil {
			return 0, fmt.Errorf("shard %d: %w", k, err)
		}
		total += float64(v)
	}
	return float32(total), nil
}

// Grads returns the gradients of the whole batch's mean loss of the last
// Run, aligned with Params.Slices(). The slices are reused by the next Run.
func (st *Step) Grads() ([][]float32, error) {
	if len(st.nets) == 1 {
		return st.nets[0].Grads()
	}
	if st.grads == nil {
		return nil, errors.New("step has not run")
	}
	return st.grads, nil
}

// Logits returns the Batch() x Classes logits of the last Run, the
// shards' in row order. The slice is reused by the next call.
func (st *Step) Logits() ([]float32, error) {
	if len(st.nets) == 1 {
		return st.nets[0].Logits()
	}
	if st.logits == nil {
		st.logits = make([]float32, st.batch*st.spec.Classes)
	}
	for k, n := range st.nets {
		v, err := n.Logits()
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", k, err)
		}
		copy(st.logits[st.lo[k]*st.spec.Classes:], v)
	}
	return st.logits, nil
}
