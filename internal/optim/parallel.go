package optim

import (
	"sync/atomic"
)

// minParallel is the number of elements below which a step runs on the
// calling goroutine whatever Settings.Threads: starting goroutines would
// cost more than they save. Tests lower it.
var minParallel = 1 << 15

// parallelChunk is the number of elements of the pieces of a parallel
// step: 16,384 floats, 64 KiB of each of the parameter, gradient and state
// arrays, a few microseconds of work. It is a multiple of 16 floats (a
// 64-byte cache line) so the pieces share no line. Tests lower it.
var parallelChunk = 1 << 14

// updater applies the current step to the elements [lo, hi) of parameter i.
type updater interface {
	update(i, lo, hi int)
}

// forRanges calls u.update on ranges covering every element of params once,
// on the calling goroutine if threads <= 1 or params hold fewer than
// minParallel elements. Otherwise the elements of all the parameters taken
// together are cut into pieces of parallelChunk elements (which may start
// or end inside a parameter), and the calling goroutine and threads-1
// helpers take the pieces one at a time until none is left. A helper that
// starts late (the scheduler may take tens of microseconds to wake an idle
// core, more when another process holds it) finds the work done and
// leaves: the caller waits only for pieces already taken, never for a
// helper to start, and no one spins. It returns when all the updates are
// done. Each element gets the same operations whoever updates it, so the
// results do not depend on threads.
func forRanges(params [][]float32, threads int, u updater) {
	total := 0
	for _, p := range params {
		total += len(p)
	}
	if threads <= 1 || total < minParallel {
		visit(params, 0, total, u)
		return
	}
	j := &job{params: params, u: u, chunk: parallelChunk, total: total, finished: make(chan struct{})}
	j.pieces = int64((total + j.chunk - 1) / j.chunk)
	for range min(int64(threads-1), j.pieces-1) {
		go j.work()
	}
	j.work()
	if j.done.Load() < j.pieces {
		<-j.finished
	}
}

// job is one parallel step of forRanges.
type job struct {
	params       [][]float32
	u            updater
	chunk, total int
	pieces       int64
	next, done   atomic.Int64  // pieces taken, pieces finished
	finished     chan struct{} // closed when done reaches pieces
}

// work updates pieces until none is left to take.
func (j *job) work() {
	for {
		k := j.next.Add(1) - 1
		if k >= j.pieces {
			return
		}
		lo := int(k) * j.chunk
		visit(j.params, lo, min(lo+j.chunk, j.total), j.u)
		if j.done.Add(1) == j.pieces {
			close(j.finished)
		}
	}
}

// visit calls u.update on the non-empty parts of the parameters that fall
// in the range [lo, hi) of their elements taken together.
func visit(params [][]float32, lo, hi int, u updater) {
	off := 0
	for i, p := range params {
		if off >= hi {
			return
		}
		if a, b := max(lo-off, 0), min(hi-off, len(p)); a < b {
			u.update(i, a, b)
		}
		off += len(p)
	}
}
