package data

import (
	"slices"
	"testing"
	"time"

	"github.com/lepton-cli/lepton/internal/realdata"
)

// TestRealdataFiles keeps realdata's file list equal to the loaders'.
func TestRealdataFiles(t *testing.T) {
	if !slices.Equal(realdata.Files, AllFiles()) {
		t.Errorf("realdata.Files %v, data.AllFiles %v", realdata.Files, AllFiles())
	}
}

func TestRealData(t *testing.T) {
	dir := realdata.Dir(t)
	tests := []struct {
		name     string
		load     func(string) (*Dataset, error)
		n        int
		perClass int
		first10  []uint8
	}{
		{name: "train", load: LoadTrain, n: 50000, perClass: 5000, first10: []uint8{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}},
		{name: "test", load: LoadTest, n: 10000, perClass: 1000, first10: []uint8{3, 8, 8, 0, 6, 6, 1, 6, 3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			d, err := tc.load(dir)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			t.Logf("loaded %d images in %v", d.Len(), time.Since(start))
			if d.Len() != tc.n || len(d.Images) != tc.n*imageSize {
				t.Fatalf("got %d images (%d bytes), want %d", d.Len(), len(d.Images), tc.n)
			}
			if !slices.Equal(d.Labels[:10], tc.first10) {
				t.Errorf("first labels = %v, want %v", d.Labels[:10], tc.first10)
			}
			var counts [numClasses]int
			for _, l := range d.Labels {
				counts[l]++
			}
			for c, n := range counts {
				if n != tc.perClass {
					t.Errorf("class %d (%s): %d images, want %d", c, d.Classes[c], n, tc.perClass)
				}
			}
			if !slices.Equal(d.Classes, DefaultClasses()) {
				t.Errorf("classes = %q, want %q", d.Classes, DefaultClasses())
			}
		})
	}
}
