package model

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

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
	st := &Step{spec: s.spec, params: s.params, batch: batch, lo: make([]int, count+1)}
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
// batch's rows [lo, hi), then the shard's forward and backward passes. With workers >= 2 up to workers shards run
// at the same time, each in its own goroutine (prepare must be safe for
// that); with workers <= 1 they run one after the other. The gradients
// are then summed and, with batch normalization, the running statistics
// updated; the results do not depend on workers. The first error, in
// shard order, is returned.
func (st *Step) Run(workers int, prepare func(k int, n *Net, lo, hi int) error) error {
	if len(st.nets) == 0 {
		return errors.New("run step: closed")
	}
	if st.errs == nil {
		st.errs = make([]error, len(st.nets))
	}
	one := func(k int) error {
		st.sampleDropout(k)
		if err := prepare(k, st.nets[k], st.lo[k], st.lo[k+1]); err != nil {
			return err
		}
		return st.nets[k].Run()
	}
	// Side by side, each shard's matrix products keep to its goroutine.
	release := blas.Occupy(min(workers, len(st.nets)) - 1)
	parallel(min(workers, len(st.nets)), len(st.nets), func(k int) { st.errs[k] = one(k) })
	release()
	for k, err := range st.errs {
		if err != nil {
			if len(st.nets) > 1 {
				return fmt.Errorf("shard %d of %d: %w", k, len(st.nets), err)
			}
			return err
		}
	}
	if len(st.nets) == 1 {
		return nil
	}
	if err := st.sumGrads(workers); err != nil {
		return err
	}
	st.updateRunningStats()
	return nil
}

// parallel calls f(0), ..., f(n-1), on up to workers goroutines (the
// caller's among them) when workers >= 2, else in order on the caller's.
func parallel(workers, n int, f func(i int)) {
	if workers <= 1 || n <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
			f(i)
		}
	}
	for range min(workers, n) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// sumChunk is the number of gradient values one goroutine sums at a time.
const sumChunk = 1 << 14

// sumGrads adds the other shards' gradients, in shard order, into shard
// 0's (which the next Run overwrites), splitting the values (never a sum)
// over up to workers goroutines.
func (st *Step) sumGrads(workers int) error {
	if st.parts == nil {
		st.parts = make([][][]float32, len(st.nets))
	}
	for k, n := range st.nets {
		g, err := n.Grads()
		if err != nil {
			return fmt.Errorf("shard %d: %w", k, err)
		}
		st.parts[k] = g
	}
	if st.chunks == nil {
		for i, g := range st.parts[0] {
			for lo := 0; lo < len(g); lo += sumChunk {
				st.chunks = append(st.chunks, gradChunk{i, lo, min(lo+sumChunk, len(g))})
			}
		}
	}
	parallel(workers, len(st.chunks), func(c int) {
		ch := st.chunks[c]
		dst := st.parts[0][ch.i][ch.lo:ch.hi]
		for _, p := range st.parts[1:] {
			addTo(dst, p[ch.i][ch.lo:ch.hi])
		}
	})
	st.grads = st.parts[0]
	return nil
}

// gradChunk is the values [lo, hi) of gradient i.
type gradChunk struct{ i, lo, hi int }

// addTo adds src to dst element by element (len(src) >= len(dst)).
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		d, s := dst[i:i+8:i+8], src[i:i+8:i+8]
		d[0] += s[0]
		d[1] += s[1]
		d[2] += s[2]
		d[3] += s[3]
		d[4] += s[4]
		d[5] += s[5]
		d[6] += s[6]
		d[7] += s[7]
	}
	for ; i < len(dst); i++ {
		dst[i] += src[i]
	}
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
