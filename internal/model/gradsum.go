package model

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
