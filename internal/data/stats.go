package data

import "math"

// Stats are per-channel mean and std of pixel values scaled to [0,1].
type Stats struct {
	// Mean is the per-channel (R, G, B) mean.
	Mean [3]float32 `json:"mean"`
	// Std is the per-channel population standard deviation.
	Std [3]float32 `json:"std"`
}

// ComputeStats returns the per-channel mean and population standard
// deviation of d's pixels scaled to [0,1]. Sums are accumulated exactly in
// integers and combined in float64. An empty dataset gives zero stats.
func ComputeStats(d *Dataset) Stats {
	var sum, sq [Channels]uint64
	n := len(d.Images) / ImageSize
	for i := range n {
		img := d.Images[i*ImageSize : (i+1)*ImageSize]
		for c := range Channels {
			var s, q uint64
			for _, v := range img[c*planeSize : (c+1)*planeSize] {
				s += uint64(v)
				q += uint64(v) * uint64(v)
			}
			sum[c] += s
			sq[c] += q
		}
	}
	var st Stats
	if n == 0 {
		return st
	}
	count := float64(n) * planeSize
	for c := range Channels {
		mean := float64(sum[c]) / count / 255
		variance := float64(sq[c])/count/(255*255) - mean*mean
		st.Mean[c] = float32(mean)
		st.Std[c] = float32(math.Sqrt(max(variance, 0)))
	}
	return st
}

// Normalize writes dst[i] = (img[i]/255 - Mean[c]) / Std[c] with
// c = i/1024, keeping the planar CHW order. img should hold one image (3072
// bytes); min(len(dst), len(img)) values are written. A zero Std is treated
// as 1 so the output stays finite.
func (s Stats) Normalize(dst []float32, img []byte) {
	n := min(len(dst), len(img), ImageSize)
	for c := range Channels {
		lo, hi := c*planeSize, min((c+1)*planeSize, n)
		if lo >= hi {
			return
		}
		mean, std := s.Mean[c], s.std(c)
		for i, v := range img[lo:hi] {
			dst[lo+i] = (float32(v)/255 - mean) / std
		}
	}
}

func (s Stats) std(c int) float32 {
	if s.Std[c] == 0 {
		return 1
	}
	return s.Std[c]
}

// table returns, per channel, Normalize's value for each byte value.
func (s Stats) table() (t [Channels][256]float32) {
	for c := range Channels {
		mean, std := s.Mean[c], s.std(c)
		for v := range 256 {
			t[c][v] = (float32(v)/255 - mean) / std
		}
	}
	return t
}

// Fill normalizes the images idx[j] of d into x[j*3072:(j+1)*3072] (as
// Stats.Normalize does) and writes their labels into y[j]. It requires
// len(x) >= len(idx)*3072 and len(y) >= len(idx).
func Fill(x []float32, y []int, d *Dataset, idx []int, s Stats) {
	x = x[:len(idx)*ImageSize]
	y = y[:len(idx)]
	t := s.table()
	for j, id := range idx {
		normalizeWith(x[j*ImageSize:(j+1)*ImageSize], d.Image(id), &t)
		y[j] = int(d.Labels[id])
	}
}
