package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/realdata"
)

var grey28 = Geometry{Height: 28, Width: 28, Channels: 1}

// writeIDXTestDir writes a small MNIST-layout directory and returns it
// with its train and test sets.
func writeIDXTestDir(t *testing.T, nTrain, nTest int, compress bool) (string, *Dataset, *Dataset) {
	t.Helper()
	dir := t.TempDir()
	train, test := synthOf(grey28, nTrain, 10, 1), synthOf(grey28, nTest, 10, 2)
	if err := WriteIDXDir(dir, train, test, compress); err != nil {
		t.Fatal(err)
	}
	return dir, train, test
}

func TestIDXSource(t *testing.T) {
	for _, tc := range []struct {
		name     string
		kind     string
		compress bool
		classes  []string
	}{
		{name: "mnist gzip", kind: KindMNIST, compress: true, classes: MNISTClasses()},
		{name: "mnist raw", kind: KindMNIST, classes: MNISTClasses()},
		{name: "fashion gzip", kind: KindFashionMNIST, compress: true, classes: FashionMNISTClasses()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, train, test := writeIDXTestDir(t, 23, 7, tc.compress)
			src, err := Open(Spec{Kind: tc.kind, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			if src.Kind() != tc.kind || src.Geometry() != grey28 || !slices.Equal(src.Classes(), tc.classes) {
				t.Fatalf("kind %s, geometry %s, classes %q", src.Kind(), src.Geometry(), src.Classes())
			}
			for _, want := range []*Dataset{train, test} {
				split := SplitTrain
				if want == test {
					split = SplitTest
				}
				got, err := src.Split(context.Background(), split)
				if err != nil {
					t.Fatal(err)
				}
				want.Classes = tc.classes
				equalDataset(t, got, want)
				if got.Geometry != grey28 {
					t.Fatalf("geometry %s", got.Geometry)
				}
			}
		})
	}
}

// idxFile returns the bytes of an IDX file of unsigned bytes.
func idxFile(dims []int, data []byte) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, n := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	return append(b, data...)
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestIDXErrors checks that every malformed IDX file is refused with a
// message naming the directory and the file, marked ErrInvalid.
func TestIDXErrors(t *testing.T) {
	labels := func(n int, v byte) []byte { return bytes.Repeat([]byte{v}, n) }
	tests := []struct {
		name string
		file string // replaced file
		data func(t *testing.T) []byte
		want string
	}{
		{name: "truncated gzip", file: idxTrainImages + ".gz", data: func(t *testing.T) []byte {
			b := gz(t, idxFile([]int{5, 28, 28}, make([]byte, 5*784)))
			return b[:len(b)/2]
		}, want: "train-images-idx3-ubyte.gz: read IDX header: unexpected EOF"},
		{name: "truncated gzip data", file: idxTestImages + ".gz", data: func(t *testing.T) []byte {
			b := gz(t, idxFile([]int{500, 28, 28}, bytes.Repeat([]byte{1, 2, 3, 250}, 500*196)))
			return b[:len(b)-20]
		}, want: "t10k-images-idx3-ubyte.gz: decompress: unexpected EOF"},
		{name: "header claims more", file: idxTrainImages + ".gz", data: func(t *testing.T) []byte {
			return gz(t, idxFile([]int{6, 28, 28}, make([]byte, 5*784)))
		}, want: "header announces 4704 bytes of [6 28 28] elements, the file holds only 3920"},
		{name: "trailing bytes", file: idxTrainLabels + ".gz", data: func(t *testing.T) []byte {
			return gz(t, append(idxFile([]int{5}, labels(5, 1)), 9))
		}, want: "the file holds more than that"},
		{name: "label out of range", file: idxTestLabels + ".gz", data: func(t *testing.T) []byte {
			return gz(t, idxFile([]int{3}, []byte{1, 10, 2}))
		}, want: "t10k-labels-idx1-ubyte.gz: label 10 of image 1 out of range 0..9"},
		{name: "count mismatch", file: idxTrainLabels + ".gz", data: func(t *testing.T) []byte {
			return gz(t, idxFile([]int{4}, labels(4, 1)))
		}, want: "train-images-idx3-ubyte.gz has 5 images but train-labels-idx1-ubyte.gz 4 labels"},
		{name: "wrong dimensions", file: idxTrainLabels + ".gz", data: func(t *testing.T) []byte {
			return gz(t, idxFile([]int{5, 1}, labels(5, 1)))
		}, want: "IDX file of 2 dimensions, want 1"},
		{name: "not IDX", file: idxTestImages + ".gz", data: func(t *testing.T) []byte { return gz(t, []byte("hello, world")) },
			want: "not an IDX file"},
		{name: "float elements", file: idxTestImages + ".gz", data: func(t *testing.T) []byte {
			b := idxFile([]int{2, 28, 28}, make([]byte, 2*784))
			b[2] = 0x0d
			return gz(t, b)
		}, want: "IDX element type 0x0d, want 0x08"},
		{name: "empty", file: idxTestLabels + ".gz", data: func(t *testing.T) []byte { return gz(t, nil) },
			want: "read IDX header: unexpected EOF"},
		{name: "huge header", file: idxTestImages + ".gz", data: func(t *testing.T) []byte {
			return gz(t, idxFile([]int{1 << 20, 1 << 10, 1 << 10}, nil))
		}, want: "each must be positive and their product at most"},
		{name: "test size differs", file: idxTestImages + ".gz", data: func(t *testing.T) []byte {
			return gz(t, idxFile([]int{3, 14, 14}, make([]byte, 3*196)))
		}, want: "images are 14x14, the training images 28x28"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, _ := writeIDXTestDir(t, 5, 3, true)
			writeFile(t, filepath.Join(dir, tc.file), tc.data(t))
			var err error
			src, err := Open(Spec{Kind: KindMNIST, Dir: dir})
			if err == nil {
				_, err = Load(context.Background(), src, 0.2, 1)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "data dir "+dir+": ") {
				t.Fatalf("err = %v, want %q naming data dir %s", err, tc.want, dir)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("err is not ErrInvalid: %v", err)
			}
		})
	}
}

func TestIDXMissing(t *testing.T) {
	dir, _, _ := writeIDXTestDir(t, 5, 3, false)
	removeFile(t, filepath.Join(dir, idxTestLabels))
	src, err := Open(Spec{Kind: KindFashionMNIST, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Split(context.Background(), SplitTest); err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte[.gz]: no such file") {
		t.Fatalf("err = %v", err)
	}
	empty := t.TempDir()
	_, err = Open(Spec{Kind: KindFashionMNIST, Dir: empty})
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), `no Fashion-MNIST data in `+empty+`: run "lepton data fetch fashion-mnist"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestResizeToOtherGeometry checks that asking a data set for another
// geometry resizes every image with imaging's conversion: MNIST at 32x32
// RGB has three equal planes, and asking for its own geometry is a no-op.
func TestResizeToOtherGeometry(t *testing.T) {
	dir, train, _ := writeIDXTestDir(t, 6, 2, true)
	src, err := Open(Spec{Kind: KindMNIST, Dir: dir, Height: 32, Width: 32, Channels: 3})
	if err != nil {
		t.Fatal(err)
	}
	if src.Geometry() != CIFARGeometry {
		t.Fatalf("geometry %s", src.Geometry())
	}
	d, err := src.Split(context.Background(), SplitTrain)
	if err != nil {
		t.Fatal(err)
	}
	if d.Geometry != CIFARGeometry || d.Len() != 6 || !slices.Equal(d.Labels, train.Labels) {
		t.Fatalf("resized set: %s, %d images", d.Geometry, d.Len())
	}
	for i := range d.Len() {
		img := d.Image(i)
		if !bytes.Equal(img[:1024], img[1024:2048]) || !bytes.Equal(img[:1024], img[2048:]) {
			t.Fatalf("image %d: grey converted to RGB has unequal planes", i)
		}
	}
	same, err := Open(Spec{Kind: KindMNIST, Dir: dir, Height: 28, Width: 28, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := same.(*idx); !ok {
		t.Fatalf("own geometry wrapped the source: %T", same)
	}
	if _, err := Open(Spec{Kind: KindMNIST, Dir: dir, Channels: 2}); err == nil {
		t.Fatal("2 channels accepted")
	}
}

func TestRealIDX(t *testing.T) {
	for _, tc := range []struct {
		kind, dir string
		first     []uint8
		classes   []string
	}{
		{kind: KindMNIST, dir: "mnist", first: []uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, classes: MNISTClasses()},
		{kind: KindFashionMNIST, dir: "fashion-mnist", first: []uint8{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, classes: FashionMNISTClasses()},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			dir := realdata.Beside(t, tc.dir)
			if got := Detect(dir); got != tc.kind {
				t.Errorf("Detect = %q, want %q", got, tc.kind)
			}
			src, err := Open(Spec{Kind: tc.kind, Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			sp, err := Load(context.Background(), src, 0.2, 42)
			if err != nil {
				t.Fatal(err)
			}
			if sp.Train.Len() != 48000 || sp.Val.Len() != 12000 || sp.Test.Len() != 10000 || sp.Test.Geometry != grey28 {
				t.Fatalf("%d/%d/%d images of %s", sp.Train.Len(), sp.Val.Len(), sp.Test.Len(), sp.Test.Geometry)
			}
			train, err := src.Split(context.Background(), SplitTrain)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(train.Labels[:10], tc.first) || !slices.Equal(train.Classes, tc.classes) {
				t.Errorf("first labels %v, classes %q", train.Labels[:10], train.Classes)
			}
			s := ComputeStats(train)
			if len(s.Mean) != 1 || s.Mean[0] < 0.1 || s.Mean[0] > 0.35 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}
