package model

import "github.com/lepton-cli/lepton/internal/blas"

// sumChunkLen is the number of gradient values one goroutine sums at a time.
const sumChunkLen = 1 << 14

// gradChunk is the values [lo, hi) of gradient i.
type gradChunk struct{ i, lo, hi int }

// gradChunks cuts the gradients of p's parameters into chunks.
func gradChunks(p *Params) []gradChunk {
	var out []gradChunk
	for i, s := range p.Slices() {
		for lo := 0; lo < len(s); lo += sumChunkLen {
			out = append(out, gradChunk{i, lo, min(lo+sumChunkLen, len(s))})
		}
	}
	return out
}

// sumChunk adds the other shards' values of chunk c, in shard order, into
// shard 0's gradients (which the next Run overwrites).
func (st *Step) sumChunk(c int) {
	ch := st.chunks[c]
	dst := st.parts[0][ch.i][ch.lo:ch.hi]
	for _, p := range st.parts[1:] {
		addTo(dst, p[ch.i][ch.lo:ch.hi])
	}
}

// addTo adds src to dst element by element (len(src) >= len(dst)), with
// the same float32 additions as a plain loop (blas.AddTo, vectorized).
func addTo(dst, src []float32) { blas.AddTo(dst, src) }
