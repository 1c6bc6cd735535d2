package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// errQueueFull is returned by submit when the model's queue is full; the
// server answers 503.
var errQueueFull = errors.New("inference queue is full, try again later")

// errStopping is returned for requests that reach a batcher after it
// stopped; the server answers 503.
var errStopping = errors.New("server is shutting down")

// job is one request's images waiting for a forward pass.
type job struct {
	model  *Model
	rows   int
	x      []float32 // rows x input values, normalized
	logits []float32 // rows x classes, written by the batcher
	ctx    context.Context
	err    error
	done   chan struct{} // signalled once when the job is answered
}

var jobPool = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

// newJob returns a pooled job with room for rows images of m.
func newJob(ctx context.Context, m *Model, rows int) *job {
	j := jobPool.Get().(*job)
	j.model, j.rows, j.ctx, j.err = m, rows, ctx, nil
	j.x = grow(j.x, rows*m.Geometry.Size())
	j.logits = grow(j.logits, rows*len(m.Classes))
	return j
}

// release returns an answered job to the pool.
func (j *job) release() {
	j.model, j.ctx = nil, nil
	jobPool.Put(j)
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// arrivalPoll is how often a waiting batcher checks whether requests are
// still arriving.
const arrivalPoll = 100 * time.Microsecond

// forwardFunc runs a model over rows inputs: fill writes input i, out
// receives the logits of input i.
type forwardFunc func(m *Model, rows int, fill func(i int, dst []float32), out func(i int, logits []float32)) error

// runNet is the forward pass of a loaded model.
func runNet(m *Model, rows int, fill func(int, []float32), out func(int, []float32)) error {
	return m.net.Logits(context.Background(), rows, fill, out)
}

// batcher answers one model's jobs in batches: requests that arrive
// together share one forward pass. It takes what the queue holds, up to
// maxBatch rows; while other requests are being parsed (arriving) it waits
// up to maxDelay for them, and it never waits when nothing else is coming.
// The queue is bounded: submit fails at once when it is full.
//
// Forward passes run under exec, one at a time: on the batcher's goroutine,
// or, when the batcher is idle, on the goroutine of the request itself
// (runIdle), which spares a lone request two goroutine handoffs.
type batcher struct {
	queue    chan *job
	kick     chan struct{} // a job was queued (capacity 1)
	exec     sync.Mutex    // held for a forward pass; guards the fields below stop
	maxBatch int
	maxDelay time.Duration
	arriving atomic.Int64 // requests being parsed, not yet submitted
	forward  forwardFunc
	log      *slog.Logger
	size     prometheus.Observer
	duration prometheus.Observer
	panics   prometheus.Counter

	stop    chan struct{}
	stopped chan struct{}
	closing sync.Once

	// Guarded by exec.
	batch []*job
	owner []int32 // per row of the batch: its job
	row   []int32 // per row of the batch: its row in the job
	held  *job    // taken from the queue but belonging to the next batch
	last  *Model
}

func newBatcher(queue, maxBatch int, maxDelay time.Duration, forward forwardFunc, log *slog.Logger,
	size, duration prometheus.Observer, panics prometheus.Counter) *batcher {
	return &batcher{
		queue: make(chan *job, queue), kick: make(chan struct{}, 1), maxBatch: maxBatch, maxDelay: maxDelay, forward: forward, log: log,
		size: size, duration: duration, panics: panics,
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// submit queues j, or fails at once when the queue is full.
func (b *batcher) submit(j *job) error {
	select {
	case <-b.stop:
		return errStopping
	default:
	}
	select {
	case b.queue <- j:
	default:
		return errQueueFull
	}
	select {
	case b.kick <- struct{}{}:
	default: // the batcher has been told already
	}
	return nil
}

// runIdle answers j with a forward pass on the calling goroutine when the
// batcher is idle: nothing queued, no other request being parsed, no
// forward pass running, so there is nothing to batch j with. Handing j to
// the batcher's goroutine and back would cost two goroutine wake-ups,
// more than a small forward pass on a lightly loaded server. It returns
// false, having done nothing, when the batcher is not idle or is
// stopping: submit j then.
func (b *batcher) runIdle(j *job) bool {
	if len(b.queue) > 0 || b.arriving.Load() > 0 || !b.exec.TryLock() {
		return false
	}
	defer b.exec.Unlock()
	if b.held != nil || len(b.queue) > 0 {
		return false
	}
	select {
	case <-b.stop:
		return false
	default:
	}
	b.batch = append(b.batch[:0], j)
	b.runBatch()
	return true
}

// wait blocks until j is answered and returns its error. answered is
// false when the batcher stopped without answering j (j must then not be
// reused).
func (b *batcher) wait(j *job) (answered bool, err error) {
	select {
	case <-j.done:
		return true, j.err
	case <-b.stopped:
		select {
		case <-j.done:
			return true, j.err
		default:
			return false, errStopping
		}
	}
}

// shutdown stops the batcher after it answered every queued job.
func (b *batcher) shutdown() {
	b.closing.Do(func() { close(b.stop) })
	<-b.stopped
}

// run answers queued jobs until shutdown. It takes a job from the queue
// only once it holds exec, so jobs wait in the queue (where the queue
// depth shows them) while another forward pass runs.
func (b *batcher) run() {
	defer close(b.stopped)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	stopping := false
	for {
		b.exec.Lock()
		first := b.held
		b.held = nil
		if first == nil {
			select {
			case first = <-b.queue:
			default:
			}
		}
		if first != nil {
			b.collect(first, timer)
			b.runBatch()
			b.exec.Unlock()
			continue // the queue may hold more
		}
		b.exec.Unlock()
		if stopping {
			return // every queued job was answered
		}
		select {
		case <-b.kick:
		case <-b.stop:
			stopping = true
		}
	}
}

// collect fills b.batch, starting with first.
func (b *batcher) collect(first *job, timer *time.Timer) {
	b.batch = append(b.batch[:0], first)
	rows := first.rows
	var deadline time.Time
	for rows < b.maxBatch {
		var j *job
		select {
		case j = <-b.queue:
		default:
			if b.maxDelay <= 0 || b.arriving.Load() == 0 {
				return // nothing else is coming: do not wait
			}
			if deadline.IsZero() {
				deadline = time.Now().Add(b.maxDelay)
			}
			d := time.Until(deadline)
			if d <= 0 {
				return
			}
			// Wait in short slices, looking again at what is arriving: a
			// request that fails to parse never comes.
			timer.Reset(min(d, arrivalPoll))
			select {
			case j = <-b.queue:
				timer.Stop()
			case <-timer.C:
				continue
			}
		}
		if j.model != first.model || rows+j.rows > b.maxBatch {
			b.held = j
			return
		}
		b.batch = append(b.batch, j)
		rows += j.rows
	}
}

// runBatch answers the jobs of b.batch with one forward pass.
func (b *batcher) runBatch() {
	live := b.batch[:0]
	for _, j := range b.batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err // the client is gone or timed out
			j.done <- struct{}{}
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	b.owner, b.row = b.owner[:0], b.row[:0]
	for k, j := range live {
		for r := range j.rows {
			b.owner = append(b.owner, int32(k))
			b.row = append(b.row, int32(r))
		}
	}
	m := live[0].model
	if b.last != nil && b.last != m {
		b.last.net.Close() // a reload replaced it; it rebuilds if still used
	}
	b.last = m
	in, classes := m.Geometry.Size(), len(m.Classes)
	fill := func(i int, dst []float32) {
		r := int(b.row[i])
		copy(dst, live[b.owner[i]].x[r*in:(r+1)*in])
	}
	out := func(i int, logits []float32) {
		r := int(b.row[i])
		copy(live[b.owner[i]].logits[r*classes:(r+1)*classes], logits)
	}
	start := time.Now()
	err := b.safeForward(m, len(b.owner), fill, out)
	b.duration.Observe(time.Since(start).Seconds())
	b.size.Observe(float64(len(b.owner)))
	for _, j := range live {
		j.err = err
		j.done <- struct{}{}
	}
	clear(b.batch) // drop references to answered jobs
}

// safeForward runs the forward pass, turning a panic into an error so
// that one bad batch cannot take the server down.
func (b *batcher) safeForward(m *Model, rows int, fill func(int, []float32), out func(int, []float32)) (err error) {
	defer func() {
		if p := recover(); p != nil {
			b.panics.Inc()
			b.log.Error("panic in inference", "model", m.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("inference failed: %v", p)
		}
	}()
	return b.forward(m, rows, fill, out)
}
