package data

import (
	"fmt"

	"github.com/lepton-cli/lepton/internal/isa"
)

// Normalization turns the bytes of an image into float32 values
// (float32(v)/255 - mean) / std with the mean and std of the byte's channel:
// three float32 operations, each rounded. Two implementations give the same
// bits: a portable one (a per-channel table of the 256 possible values, each
// computed with those operations, or the operations themselves) and, on
// amd64 with AVX2 or AVX-512, an assembly kernel doing the same conversion,
// division, subtraction and division on 8 or 16 bytes at a time
// (normalize_amd64.s). VDIVPS and VSUBPS round exactly as Go's float32
// division and subtraction do, so every kernel gives bit-identical values.

// normConsts are one channel's factors, read by the assembly by offset:
// keep the field order and types.
type normConsts struct {
	scale float32 // 255
	mean  float32
	std   float32
}

// normKernel is one implementation of the normalization of len(src)
// bytes into dst (len(dst) >= len(src)) with one channel's factors k. A nil
// f is the portable code. prefetch, if not nil, asks for the bytes of an
// image to be brought into the caches: the batch builders call it on the
// next image while they normalize one (the images of a batch are scattered
// over the data set, so the hardware's prefetcher cannot guess the next).
type normKernel struct {
	name     string
	f        func(dst []float32, src []byte, k *normConsts)
	prefetch func(b []byte)
}

// normKernels are the SIMD kernels usable on this machine, best last;
// normalize_amd64.go fills it.
var normKernels []normKernel

// activeNorm is the kernel in use: the best of normKernels at
// initialization, else the portable code. Tests switch it.
var activeNorm = normKernel{name: "generic"}

// UseSIMD selects the kernel of the normalization: with on, the best SIMD
// kernel of this machine (as at initialization); without, the portable Go
// code. All give bit-identical values, so this only rules out assembly.
// Call it before loading batches, not concurrently with them.
func UseSIMD(on bool) {
	name := "generic"
	if on {
		name = "avx512"
	}
	_ = UseKernel(name) // a known name: no error
}

// UseKernel selects the best normalization kernel of this machine that uses
// no wider instructions than name: "avx512" (any), "avx2" (AVX2 at most) or
// "generic" (the portable code). A "-fma" suffix, as in the matrix
// multiply's kernel names, is ignored, so LEPTON_KERNEL=avx2 keeps the
// normalization on AVX2 too. All kernels give bit-identical values. It
// fails, changing nothing, on another name. Call it before loading
// batches, not concurrently with them.
func UseKernel(name string) error {
	rank, ok := isa.Rank(name)
	if !ok {
		return fmt.Errorf("normalization kernel %q: unknown (want avx512, avx2 or generic)", name)
	}
	k := normKernel{name: "generic"}
	for _, c := range normKernels {
		if r, _ := isa.Rank(c.name); r <= rank {
			k = c // normKernels are in increasing order
		}
	}
	if activeNorm.name != k.name { // no write in the usual case
		activeNorm = k
	}
	return nil
}

// NormalizeKernel reports the normalization's kernel: "avx512", "avx2" or
// "generic".
func NormalizeKernel() string { return activeNorm.name }

// normalizer normalizes whole images of one geometry with fixed Stats.
// It is read-only after construction, so goroutines may share it.
type normalizer struct {
	plane  int
	consts []normConsts   // per channel
	table  [][256]float32 // per channel, for the portable code
	kernel func([]float32, []byte, *normConsts)
	fetch  func([]byte) // nil: no prefetching
}

// normalizer returns s's normalizer for images of geometry g.
func (s Stats) normalizer(g Geometry) *normalizer {
	n := &normalizer{plane: g.Plane(), consts: make([]normConsts, g.Channels), kernel: activeNorm.f, fetch: activeNorm.prefetch}
	for c := range n.consts {
		n.consts[c] = normConsts{scale: 255, mean: s.mean(c), std: s.std(c)}
	}
	if n.kernel == nil {
		n.table = s.table(g.Channels)
	}
	return n
}

// prefetch asks for the bytes of img, an image to normalize soon, to be
// brought into the caches, if the kernel can.
func (n *normalizer) prefetch(img []byte) {
	if n.fetch != nil {
		n.fetch(img)
	}
}

// image writes the normalized values of img (len(consts)*plane bytes) into
// dst, which must be at least as long.
func (n *normalizer) image(dst []float32, img []byte) {
	p := n.plane
	for c := range n.consts {
		in := img[c*p : (c+1)*p]
		out := dst[c*p : (c+1)*p]
		if n.kernel != nil {
			n.kernel(out, in, &n.consts[c])
			continue
		}
		lookup(out, in, &n.table[c])
	}
}

// lookup writes t[src[k]] into dst[k] for every k < len(src).
func lookup(dst []float32, src []byte, t *[256]float32) {
	dst = dst[:len(src)]
	k := 0
	for ; k+4 <= len(src); k += 4 {
		d, s := dst[k:k+4:k+4], src[k:k+4:k+4]
		d[0], d[1], d[2], d[3] = t[s[0]], t[s[1]], t[s[2]], t[s[3]]
	}
	for ; k < len(src); k++ {
		dst[k] = t[src[k]]
	}
}

// normalizeGo is the portable normalization of len(src) bytes with the
// factors k: the reference for the kernels and the table.
func normalizeGo(dst []float32, src []byte, k *normConsts) {
	dst = dst[:len(src)]
	mean, std := k.mean, k.std
	for i, v := range src {
		dst[i] = (float32(v)/255 - mean) / std
	}
}
