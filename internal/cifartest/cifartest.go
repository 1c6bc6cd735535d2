// Package cifartest gives tests data: the real CIFAR-10 named by
// LEPTON_DATA_DIR (and MNIST and Fashion-MNIST beside it), and small
// learnable synthetic data sets written to a temporary directory in
// CIFAR-10's binary layout, MNIST's IDX layout or as an image folder.
package cifartest

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// Beside returns the real data set directory name (mnist or
// fashion-mnist) beside LEPTON_DATA_DIR; see realdata.Beside, which decides.
func Beside(t testing.TB, name string) string {
	t.Helper()
	return realdata.Beside(t, name)
}

// Toy writes a small, learnable data set in CIFAR-10's binary layout to a
// temporary directory and returns it: nTrain training and nTest test images,
// labels cycling through the 10 classes, each class a distinct colour with
// noise drawn from seed. Its record counts are listed in
// lepton-records.json, as a subset's must be.
func Toy(t testing.TB, nTrain, nTest int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	train := ToySet(data.CIFARGeometry, nTrain, rng)
	test := ToySet(data.CIFARGeometry, nTest, rng)
	dir := t.TempDir()
	if err := data.WriteDir(dir, train, test); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ToySet returns n learnable images of geometry g with CIFAR-10's class
// names: labels cycle through the classes, each class a distinct colour
// (a distinct grey for one channel) with noise drawn from rng.
func ToySet(g data.Geometry, n int, rng *rand.Rand) *data.Dataset {
	classes := data.DefaultClasses()
	d := &data.Dataset{Geometry: g, Images: make([]byte, n*g.Size()), Labels: make([]uint8, n), Classes: classes}
	for i := 0; i < n; i++ {
		c := i % len(classes)
		d.Labels[i] = uint8(c)
		img := d.Image(i)
		for p := range img {
			base := (c*37 + (p/g.Plane())*91) % 256
			if g.Channels == 1 {
				base = c*25 + 3
			}
			img[p] = uint8(max(0, min(255, base+rng.IntN(41)-20)))
		}
	}
	return d
}

// ToyIDX writes a learnable grey 28x28 data set in MNIST's IDX layout
// (gzip-compressed) to a temporary directory and returns it.
func ToyIDX(t testing.TB, nTrain, nTest int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	g := data.Geometry{Height: 28, Width: 28, Channels: 1}
	dir := t.TempDir()
	if err := data.WriteIDXDir(dir, ToySet(g, nTrain, rng), ToySet(g, nTest, rng), true); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ToyFolder writes a learnable image folder DIR/<class>/<n>.png of n
// images (32x32 RGB PNG files; every third one a JPEG of 40x24 pixels in
// a nested sub-folder) to a temporary directory and returns it.
func ToyFolder(t testing.TB, n int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	d := ToySet(data.CIFARGeometry, n, rng)
	dir := filepath.Join(t.TempDir(), "toy-folder")
	var png, jpg []int
	for i := range n {
		if i%3 == 2 {
			jpg = append(jpg, i)
		} else {
			png = append(png, i)
		}
	}
	if err := data.WriteFolder(dir, d.Subset(png), "png"); err != nil {
		t.Fatal(err)
	}
	wide, err := data.Resize(context.Background(), d.Subset(jpg), data.Geometry{Height: 24, Width: 40, Channels: 3}, "stretch", 1)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if err := data.WriteFolder(tmp, wide, "jpg"); err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Classes {
		if err := os.Rename(filepath.Join(tmp, c), filepath.Join(dir, c, "more")); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
