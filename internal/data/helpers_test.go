package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The CIFAR-10 geometry most tests use, and its sizes.
var cifar = CIFARGeometry

const (
	side       = 32
	channels   = 3
	planeSize  = side * side
	imageSize  = channels * planeSize
	numClasses = 10
)

// apply augments src into dst with a fresh Augmenter of CIFAR geometry.
func apply(a Augment, dst, src []byte, rng *rand.Rand) {
	NewAugmenter(a, cifar).Apply(dst, src, rng)
}

// synth returns a dataset of n pseudo-random images with labels i%10 and
// the default class names.
func synth(n int, seed uint64) *Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := &Dataset{
		Geometry: cifar,
		Images:   make([]byte, n*imageSize),
		Labels:   make([]uint8, n),
		Classes:  DefaultClasses(),
	}
	for i := range d.Images {
		d.Images[i] = byte(r.UintN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = uint8(i % numClasses)
	}
	return d
}

// binBytes returns the .bin encoding of d.
func binBytes(t *testing.T, d *Dataset) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteBin(&b, d); err != nil {
		t.Fatalf("WriteBin: %v", err)
	}
	return b.Bytes()
}

// member is one entry of a test tarball.
type member struct {
	name string
	data []byte
	dir  bool
}

// writeTarGz writes members into a gzip'd tarball at p.
func writeTarGz(t *testing.T, p string, members []member) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}
		if m.dir {
			h = &tar.Header{Name: m.name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %s: %v", m.name, err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatalf("tar write %s: %v", m.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("close tar: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("close gzip: %v", err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
}

// dirMembers returns the files of a data dir as tarball members under
// prefix (e.g. "cifar-10-batches-bin/"), in the official order.
func dirMembers(t *testing.T, dir, prefix string) []member {
	t.Helper()
	var ms []member
	if prefix != "" {
		ms = append(ms, member{name: prefix, dir: true})
	}
	for _, name := range dataFiles(dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		ms = append(ms, member{name: prefix + name, data: b})
	}
	return ms
}

// dataFiles returns the CIFAR-10 files of a test data dir: AllFiles and,
// when the dir has one, its RecordsFile.
func dataFiles(dir string) []string {
	names := AllFiles()
	if _, err := os.Stat(filepath.Join(dir, RecordsFile)); err == nil {
		names = append(names, RecordsFile)
	}
	return names
}

// writeTestDir writes a data dir with nTrain/nTest synthetic images and
// returns it with the datasets.
func writeTestDir(t *testing.T, nTrain, nTest int) (dir string, train, test *Dataset) {
	t.Helper()
	dir = t.TempDir()
	train, test = synth(nTrain, 1), synth(nTest, 2)
	if err := WriteDir(dir, train, test); err != nil {
		t.Fatalf("WriteDir: %v", err)
	}
	return dir, train, test
}

// equalDataset fails the test if got and want differ.
func equalDataset(t *testing.T, got, want *Dataset) {
	t.Helper()
	if !bytes.Equal(got.Images, want.Images) {
		t.Errorf("images differ (len %d vs %d)", len(got.Images), len(want.Images))
	}
	if !bytes.Equal(got.Labels, want.Labels) {
		t.Errorf("labels = %v, want %v", got.Labels, want.Labels)
	}
	if len(got.Classes) != len(want.Classes) {
		t.Fatalf("classes = %q, want %q", got.Classes, want.Classes)
	}
	for i := range got.Classes {
		if got.Classes[i] != want.Classes[i] {
			t.Errorf("classes = %q, want %q", got.Classes, want.Classes)
			break
		}
	}
}
