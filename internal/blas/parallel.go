package blas

import (
	"runtime"
	"sync/atomic"
)

// job is the per-call state shared by the goroutines of a parallel Sgemm.
// Part i of the call (args[i], computed with ws[i]) is run by whichever
// goroutine first claims it: a worker that received a task for it, or the
// calling goroutine once its own part is done. Claims compare-and-swap
// state[i] from 2*epoch (unclaimed) to 2*epoch+1, so tasks left over from
// an earlier call on the same job, which carry an older epoch, are ignored.
type job struct {
	epoch uint64
	state []atomic.Uint64
	done  chan struct{} // one token per part finished by a worker
	ws    []*workspace
	args  []gemmArgs
}

// task asks a worker goroutine to try to claim and run part i of j.
type task struct {
	j     *job
	i     int
	epoch uint64
	kern  kernelID
}

// The process's cores are shared by every Sgemm call in progress, of any
// Implementation, and by the goroutines declared with Occupy.
var (
	inFlight atomic.Int32 // Sgemm calls in progress
	occupied atomic.Int32 // goroutines declared by Occupy
)

// Occupy declares that n more goroutines compute side by side with the
// caller (data-parallel shards of a training step, say) until release is
// called. Meanwhile an Sgemm call leaves them their cores: it splits its
// work over n fewer goroutines, so with as many busy goroutines as threads
// every product runs on its caller's goroutine alone and no worker takes a
// core from a busy goroutine. The split never changes a product's result,
// so neither does Occupy.
func Occupy(n int) (release func()) {
	if n <= 0 {
		return func() {}
	}
	occupied.Add(int32(n))
	var once atomic.Bool
	return func() {
		if once.CompareAndSwap(false, true) {
			occupied.Add(-int32(n))
		}
	}
}

// gemm computes a validated product with m, n, k > 0 and alpha != 0,
// splitting the rows or the columns of C over up to impl.threads goroutines
// less one for every other Sgemm call in progress and for every goroutine
// declared with Occupy.
func (impl *Implementation) gemm(g *gemmArgs) {
	others := int(inFlight.Add(1)) - 1
	defer inFlight.Add(-1)
	nt, splitRows := impl.plan(g.m, g.n, g.k)
	nt = min(nt, impl.threads-others-int(occupied.Load()))
	if nt <= 1 {
		w := impl.getWorkspace()
		w.run(impl.kern, g)
		impl.putWorkspace(w)
		return
	}
	impl.startWorkers()
	j := impl.getJob(nt)
	// Cut the split dimension on micro-tile boundaries, so the tile grid
	// (and hence the arithmetic per element) is that of the serial call.
	mr, nr := impl.kern.tile()
	unit, total := mr, g.m
	if !splitRows {
		unit, total = nr, g.n
	}
	panels := ceilDiv(total, unit)
	for i := 0; i < nt; i++ {
		lo := min(total, i*panels/nt*unit)
		hi := min(total, (i+1)*panels/nt*unit)
		s := *g
		if splitRows {
			s.m = hi - lo
			if g.aT {
				s.a = g.a[lo:]
			} else {
				s.a = g.a[lo*g.lda:]
			}
			s.c = g.c[lo*g.ldc:]
		} else {
			s.n = hi - lo
			if g.bT {
				s.b = g.b[lo*g.ldb:]
			} else {
				s.b = g.b[lo:]
			}
			s.c = g.c[lo:]
		}
		j.args[i] = s
	}
	j.epoch++
	for i := 0; i < nt; i++ {
		j.state[i].Store(2 * j.epoch)
	}
	for i := 1; i < nt; i++ {
		select {
		case impl.tasks <- task{j: j, i: i, epoch: j.epoch, kern: impl.kern}:
		default: // queue full: the part is left for this goroutine
		}
	}
	j.ws[0].run(impl.kern, &j.args[0])
	pending := nt - 1
	for i := 1; i < nt; i++ {
		if j.claim(i, j.epoch) {
			j.ws[i].run(impl.kern, &j.args[i])
			pending--
		}
	}
	for ; pending > 0; pending-- {
		receive(j.done)
	}
	impl.putJob(j)
}

// claim reports whether the caller won part i of the call with this epoch.
func (j *job) claim(i int, epoch uint64) bool {
	return j.state[i].CompareAndSwap(2*epoch, 2*epoch+1)
}

// plan chooses the number of goroutines and whether to split C by rows
// (each goroutine packs all of op(B)) or by columns (each packs all of
// op(A)); the smaller operand is the one packed redundantly.
func (impl *Implementation) plan(m, n, k int) (nt int, splitRows bool) {
	nt = impl.threads
	if nt <= 1 || m*n*k < parMinWork {
		return 1, true
	}
	mr, nr := impl.kern.tile()
	rowPanels, colPanels := ceilDiv(m, mr), ceilDiv(n, nr)
	splitRows = n <= m
	if splitRows && rowPanels < nt && colPanels > rowPanels {
		splitRows = false
	} else if !splitRows && colPanels < nt && rowPanels > colPanels {
		splitRows = true
	}
	p := colPanels
	if splitRows {
		p = rowPanels
	}
	return min(nt, p), splitRows
}

// startWorkers launches the threads-1 worker goroutines on first use. They
// exit once the Implementation becomes unreachable.
func (impl *Implementation) startWorkers() {
	impl.once.Do(func() {
		ch := make(chan task, 4*impl.threads)
		impl.tasks = ch
		impl.live.Add(int32(impl.threads - 1))
		for i := 1; i < impl.threads; i++ {
			go worker(ch, impl.live)
		}
		runtime.AddCleanup(impl, func(ch chan task) { close(ch) }, ch)
	})
}

// worker runs tasks until its channel is closed, then decrements live.
func worker(ch <-chan task, live *atomic.Int32) {
	defer live.Add(-1)
	for {
		t, ok := receive(ch)
		if !ok {
			return
		}
		if t.j.claim(t.i, t.epoch) {
			t.j.ws[t.i].run(t.kern, &t.j.args[t.i])
			t.j.done <- struct{}{}
		}
	}
}

// spinPolls is how many times a goroutine polls a channel, about a
// hundred nanoseconds apart (a few microseconds in all), before blocking
// on it: an idle worker waiting for its next task, or a caller waiting for
// the workers to finish. Workers used to poll for up to a millisecond
// after each part, to stay awake across the gaps between a training
// step's products; that CPU time was taken from the goroutines sharing the
// cores (another shard of the step, the data loader, another process) and
// was 14-18% of a 2-thread profile. With one shard at 2 threads
// (mlp.yaml, best epoch time of 3 rounds under flock) the millisecond
// spin gave 0.70 s an epoch, a 100 µs spin 0.63 s and this short poll
// 0.63 s.
const spinPolls = 64

// receive returns the next value from ch, polling it spinPolls times
// before blocking.
func receive[T any](ch <-chan T) (T, bool) {
	for i := 0; i < spinPolls; i++ {
		select {
		case v, ok := <-ch:
			return v, ok
		default:
		}
		pause(uint32(i))
	}
	v, ok := <-ch
	return v, ok
}

// pause busy-waits for roughly a hundred nanoseconds without touching
// memory (a dependent chain of multiply-adds); the result is meaningless.
//
//go:noinline
func pause(x uint32) uint32 {
	for i := 0; i < 64; i++ {
		x = x*1664525 + 1013904223
	}
	return x
}

// getWorkspace returns an idle workspace, creating one if none is free.
func (impl *Implementation) getWorkspace() *workspace {
	impl.mu.Lock()
	defer impl.mu.Unlock()
	if n := len(impl.free); n > 0 {
		w := impl.free[n-1]
		impl.free[n-1] = nil
		impl.free = impl.free[:n-1]
		return w
	}
	return new(workspace)
}

// putWorkspace makes w available to later calls.
func (impl *Implementation) putWorkspace(w *workspace) {
	impl.mu.Lock()
	impl.free = append(impl.free, w)
	impl.mu.Unlock()
}

// getJob returns an idle job holding nt <= impl.threads workspaces. A job's
// state, done and args are sized for impl.threads when it is created and
// never reallocated, since stale tasks may still read job.state.
func (impl *Implementation) getJob(nt int) *job {
	impl.mu.Lock()
	defer impl.mu.Unlock()
	var j *job
	if n := len(impl.jobs); n > 0 {
		j = impl.jobs[n-1]
		impl.jobs[n-1] = nil
		impl.jobs = impl.jobs[:n-1]
	} else {
		j = &job{
			state: make([]atomic.Uint64, impl.threads),
			done:  make(chan struct{}, impl.threads),
			args:  make([]gemmArgs, impl.threads),
			ws:    make([]*workspace, 0, impl.threads),
		}
	}
	for len(j.ws) < nt {
		var w *workspace
		if n := len(impl.free); n > 0 {
			w = impl.free[n-1]
			impl.free[n-1] = nil
			impl.free = impl.free[:n-1]
		} else {
			w = new(workspace)
		}
		j.ws = append(j.ws, w)
	}
	return j
}

// putJob returns j and its workspaces to the free lists.
func (impl *Implementation) putJob(j *job) {
	impl.mu.Lock()
	impl.free = append(impl.free, j.ws...)
	clear(j.ws)
	j.ws = j.ws[:0]
	clear(j.args) // drop references to the caller's matrices
	impl.jobs = append(impl.jobs, j)
	impl.mu.Unlock()
}
