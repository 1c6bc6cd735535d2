// Package cifartest gives tests CIFAR-10 data: the real data set named by
// LEPTON_DATA_DIR, and small synthetic data sets written to a temporary
// directory in the same binary format.
package cifartest

import (
	"math/rand/v2"
	"testing"

	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/realdata"
)

// Dir returns the real CIFAR-10 directory named by LEPTON_DATA_DIR; see
// realdata.Dir, which decides.
func Dir(t testing.TB) string {
	t.Helper()
	return realdata.Dir(t)
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
