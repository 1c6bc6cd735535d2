package optim

import "sync"

// minParallel is the number of elements below which a step runs on the
// calling goroutine whatever Settings.Threads: starting goroutines would
// cost more than they save. Tests lower it.
var minParallel = 1 << 15

// parallelAlign is the granularity, in elements, of the ranges given to the
// goroutines of a step: 16 floats, a 64-byte cache line.
const parallelAlign = 16

// updater applies the current step to the elements [lo, hi) of parameter i.
type updater interface {
	update(i, lo, hi int)
}

// forRanges calls u.update on ranges covering every element of params once,
// on the calling goroutine if threads <= 1 or params hold fewer than
// minParallel elements, else on up to threads goroutines (the calling one
// included), each given a contiguous range of the elements of all the
// parameters taken together, which may start or end inside a parameter.
// It returns when all the updates are done.
func forRanges(params [][]float32, threads int, u updater) {
	total := 0
	for _, p := range params {
		total += len(p)
	}
	if threads <= 1 || total < minParallel {
		visit(params, 0, total, u)
		return
	}
	// Ranges of at least minParallel/2 elements, so that small steps do not
	// start more goroutines than they can use.
	chunk := max((total+threads-1)/threads, minParallel/2)
	chunk = (chunk + parallelAlign - 1) / parallelAlign * parallelAlign
	var wg sync.WaitGroup
	for lo := chunk; lo < total; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			visit(params, lo, hi, u)
		}(lo, min(lo+chunk, total))
	}
	visit(params, 0, min(chunk, total), u)
	wg.Wait()
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
