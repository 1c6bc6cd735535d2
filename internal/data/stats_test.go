package data

import (
	"math"
	"testing"
)

// naiveStats computes the stats with a straightforward two-pass float64
// reference implementation.
func naiveStats(d *Dataset) (mean, std [3]float64) {
	n := float64(d.Len() * planeSize)
	for c := range channels {
		for i := range d.Len() {
			for _, v := range d.Image(i)[c*planeSize : (c+1)*planeSize] {
				mean[c] += float64(v) / 255
			}
		}
		mean[c] /= n
		for i := range d.Len() {
			for _, v := range d.Image(i)[c*planeSize : (c+1)*planeSize] {
				x := float64(v)/255 - mean[c]
				std[c] += x * x
			}
		}
		std[c] = math.Sqrt(std[c] / n)
	}
	return mean, std
}

func TestComputeStats(t *testing.T) {
	// Image 0: R=0, G=51, B alternates 0/255. Image 1: R=255, G=51, B same.
	known := &Dataset{Geometry: cifar, Images: make([]byte, 2*imageSize), Labels: []uint8{0, 1}}
	for i := range 2 {
		img := known.Image(i)
		for p := range planeSize {
			img[p] = byte(255 * i)
			img[planeSize+p] = 51
			img[2*planeSize+p] = byte(255 * (p % 2))
		}
	}
	tests := []struct {
		name     string
		d        *Dataset
		wantMean [3]float64
		wantStd  [3]float64
		useNaive bool
	}{
		{name: "empty", d: &Dataset{Geometry: cifar}},
		{name: "known values", d: known, wantMean: [3]float64{0.5, 0.2, 0.5}, wantStd: [3]float64{0.5, 0, 0.5}},
		{name: "random images", d: synth(37, 5), useNaive: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.useNaive {
				tc.wantMean, tc.wantStd = naiveStats(tc.d)
			}
			got := ComputeStats(tc.d)
			for c := range channels {
				if math.Abs(float64(got.Mean[c])-tc.wantMean[c]) > 1e-6 {
					t.Errorf("Mean[%d] = %v, want %v", c, got.Mean[c], tc.wantMean[c])
				}
				if math.Abs(float64(got.Std[c])-tc.wantStd[c]) > 1e-6 {
					t.Errorf("Std[%d] = %v, want %v", c, got.Std[c], tc.wantStd[c])
				}
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	s := Stats{Mean: []float32{0.5, 0.2, 0.5}, Std: []float32{0.5, 1, 0.25}}
	img := make([]byte, imageSize)
	img[0], img[1023] = 255, 0     // R
	img[1024], img[2047] = 51, 255 // G
	img[2048], img[3071] = 0, 255  // B
	tests := []struct {
		name  string
		stats Stats
		dst   int // len(dst)
		want  map[int]float32
	}{
		{name: "channel boundaries", stats: s, dst: imageSize, want: map[int]float32{
			0: 1, 1023: -1, 1024: 0, 2047: 0.8, 2048: -2, 3071: 2,
		}},
		{name: "zero std treated as one", stats: Stats{Mean: []float32{0, 0, 1}}, dst: imageSize, want: map[int]float32{
			0: 1, 1024: 0.2, 2048: -1, 3071: 0,
		}},
		{name: "short dst", stats: s, dst: 1025, want: map[int]float32{0: 1, 1023: -1, 1024: 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]float32, tc.dst)
			tc.stats.Normalize(dst, img)
			for i, w := range tc.want {
				if math.Abs(float64(dst[i]-w)) > 1e-6 {
					t.Errorf("dst[%d] = %v, want %v", i, dst[i], w)
				}
			}
			for i, v := range dst {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("dst[%d] = %v, want finite", i, v)
				}
			}
		})
	}
}

func TestFill(t *testing.T) {
	d := synth(8, 3)
	s := ComputeStats(d)
	tests := []struct {
		name string
		idx  []int
	}{
		{name: "none", idx: nil},
		{name: "batch", idx: []int{7, 0, 3}},
		{name: "repeat", idx: []int{2, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const sentinel = 12345
			x := make([]float32, (len(tc.idx)+1)*imageSize) // one spare image
			for i := range x {
				x[i] = sentinel
			}
			y := make([]int, len(tc.idx)+1)
			y[len(tc.idx)] = -7
			Fill(x, y, d, tc.idx, s)
			want := make([]float32, imageSize)
			for j, id := range tc.idx {
				s.Normalize(want, d.Image(id))
				for i, w := range want {
					if x[j*imageSize+i] != w {
						t.Fatalf("x[%d] = %v, want %v (image %d)", j*imageSize+i, x[j*imageSize+i], w, id)
					}
				}
				if y[j] != int(d.Labels[id]) {
					t.Errorf("y[%d] = %d, want %d", j, y[j], d.Labels[id])
				}
			}
			for i := len(tc.idx) * imageSize; i < len(x); i++ {
				if x[i] != sentinel {
					t.Fatalf("x[%d] written beyond the batch", i)
				}
			}
			if y[len(tc.idx)] != -7 {
				t.Error("y written beyond the batch")
			}
		})
	}
}
