// Package cifartest gives tests CIFAR-10 data: the real data set named by
// LEPTON_DATA_DIR, and small synthetic data sets written to a temporary
// directory in the same binary format.
package cifartest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lepton-cli/lepton/internal/data"
)

// Dir returns the real CIFAR-10 directory named by LEPTON_DATA_DIR. When it
// is unset or holds no test_batch.bin, the test fails under CI (CI set) and
// is skipped elsewhere.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LEPTON_DATA_DIR")
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, data.TestFile)); err == nil {
			return dir
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("real CIFAR-10 data not found: set LEPTON_DATA_DIR to a directory holding data_batch_1..5.bin and test_batch.bin (got %q)", dir)
	}
	t.Skip("LEPTON_DATA_DIR not set; skipping the real-data test outside CI")
	return ""
}

// Toy writes a small, learnable data set in CIFAR-10's binary layout to a
// temporary directory and returns it: nTrain training and nTest test images,
// labels cycling through the 10 classes, each class a distinct colour with
// noise drawn from seed.
func Toy(t testing.TB, nTrain, nTest int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	mk := func(n int) *data.Dataset {
		g := data.CIFARGeometry
		classes := data.DefaultClasses()
		d := &data.Dataset{Geometry: g, Images: make([]byte, n*g.Size()), Labels: make([]uint8, n), Classes: classes}
		for i := 0; i < n; i++ {
			c := i % len(classes)
			d.Labels[i] = uint8(c)
			img := d.Image(i)
			for p := range img {
				base := (c*37 + (p/g.Plane())*91) % 256
				img[p] = uint8(max(0, min(255, base+rng.IntN(41)-20)))
			}
		}
		return d
	}
	dir := t.TempDir()
	if err := data.WriteDir(dir, mk(nTrain), mk(nTest)); err != nil {
		t.Fatal(err)
	}
	return dir
}
