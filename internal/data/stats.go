package data

import "math"

// Stats are per-channel mean and std of pixel values scaled to [0,1]: one
// value per channel plane, in plane order.
type Stats struct {
	// Mean is the per-channel mean (R, G, B for colour images).
	Mean []float32 `json:"mean"`
	// Std is the per-channel population standard deviation.
	Std []float32 `json:"std"`
}

// ComputeStats returns the per-channel mean and population standard
// deviation of d's pixels scaled to [0,1], one value per channel of d's
// geometry. Sums are accumulated exactly in integers and combined in
// float64. An empty dataset gives zero stats.
func ComputeStats(d *Dataset) Stats {
	g := d.Geometry
	ch, plane, size := g.Channels, g.Plane(), g.Size()
	sum, sq := make([]uint64, ch), make([]uint64, ch)
	n := 0
	if size > 0 {
		n = len(d.Images) / size
	}
	for i := range n {
		img := d.Images[i*size : (i+1)*size]
		for c := range ch {
			s, q := sumSq(img[c*plane : (c+1)*plane])
			sum[c] += s
			sq[c] += q
		}
	}
	st := Stats{Mean: make([]float32, ch), Std: make([]float32, ch)}
	if n == 0 {
		return st
	}
	count := float64(n) * float64(plane)
	for c := range ch {
		mean := float64(sum[c]) / count / 255
		variance := float64(sq[c])/count/(255*255) - mean*mean
		st.Mean[c] = float32(mean)
		st.Std[c] = float32(math.Sqrt(max(variance, 0)))
	}
	return st
}

// sumSq returns the sum of the bytes of b and the sum of their squares:
// sumSqGo, or an exact SIMD version of it (normalize_amd64.go).
var sumSq = sumSqGo

func sumSqGo(b []byte) (s, q uint64) {
	for _, v := range b {
		s += uint64(v)
		q += uint64(v) * uint64(v)
	}
	return s, q
}

// Channels returns the number of channels the stats describe (at least 1).
func (s Stats) Channels() int { return max(len(s.Mean), len(s.Std), 1) }

// Normalize writes dst[i] = (img[i]/255 - Mean[c]) / Std[c], where c is the
// channel plane of byte i when img holds one whole image of s.Channels()
// planes, keeping the planar CHW order. min(len(dst), len(img)) values are
// written. A missing mean counts as 0 and a missing or zero Std as 1, so
// the output stays finite.
func (s Stats) Normalize(dst []float32, img []byte) {
	ch := s.Channels()
	plane := len(img) / ch
	n := min(len(dst), len(img))
	for c := range ch {
		lo, hi := c*plane, min((c+1)*plane, n)
		if lo >= hi {
			return
		}
		k := normConsts{scale: 255, mean: s.mean(c), std: s.std(c)}
		if f := activeNorm.f; f != nil {
			f(dst[lo:hi], img[lo:hi], &k)
		} else {
			normalizeGo(dst[lo:hi], img[lo:hi], &k)
		}
	}
}

func (s Stats) mean(c int) float32 {
	if c >= len(s.Mean) {
		return 0
	}
	return s.Mean[c]
}

func (s Stats) std(c int) float32 {
	if c >= len(s.Std) || s.Std[c] == 0 {
		return 1
	}
	return s.Std[c]
}

// table returns, per channel, Normalize's value for each byte value.
func (s Stats) table(channels int) [][256]float32 {
	t := make([][256]float32, channels)
	for c := range channels {
		mean, std := s.mean(c), s.std(c)
		for v := range 256 {
			t[c][v] = (float32(v)/255 - mean) / std
		}
	}
	return t
}

// Fill normalizes the images idx[j] of d into x[j*size:(j+1)*size] (as
// Stats.Normalize does), where size is d.Geometry.Size(), and writes their
// labels into y[j]. It requires len(x) >= len(idx)*size and
// len(y) >= len(idx).
func Fill(x []float32, y []int, d *Dataset, idx []int, s Stats) {
	g := d.Geometry
	size := g.Size()
	x = x[:len(idx)*size]
	y = y[:len(idx)]
	norm := s.normalizer(g)
	for j, id := range idx {
		if j+1 < len(idx) {
			norm.prefetch(d.Image(idx[j+1]))
		}
		norm.image(x[j*size:(j+1)*size], d.Image(id))
		y[j] = int(d.Labels[id])
	}
}
