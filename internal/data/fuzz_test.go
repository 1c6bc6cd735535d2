package data

import (
	"bytes"
	"compress/gzip"
	"testing"
)

func FuzzReadBatch(f *testing.F) {
	one := make([]byte, RecordSize)
	one[0] = 9
	bad := bytes.Clone(one)
	bad[0] = 10
	two := append(bytes.Clone(one), one...)
	two[RecordSize] = 3
	f.Add([]byte{})
	f.Add(one)
	f.Add(two)
	f.Add(bad)
	f.Add(one[:RecordSize-1])
	f.Add(append(bytes.Clone(two), 0))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ReadBatch("fuzz.bin", raw)
		if err != nil {
			if d != nil {
				t.Fatal("non-nil dataset with an error")
			}
			return
		}
		if len(raw)%RecordSize != 0 {
			t.Fatalf("accepted %d bytes, not a multiple of %d", len(raw), RecordSize)
		}
		n := len(raw) / RecordSize
		if d.Len() != n || len(d.Images) != n*imageSize {
			t.Fatalf("got %d labels / %d image bytes for %d records", d.Len(), len(d.Images), n)
		}
		for i, l := range d.Labels {
			if l >= numClasses {
				t.Fatalf("record %d: accepted label %d", i, l)
			}
			if l != raw[i*RecordSize] || !bytes.Equal(d.Image(i), raw[i*RecordSize+1:(i+1)*RecordSize]) {
				t.Fatalf("record %d decoded wrongly", i)
			}
		}
		var back bytes.Buffer
		if err := WriteBin(&back, d); err != nil || !bytes.Equal(back.Bytes(), raw) {
			t.Fatalf("WriteBin round trip differs (err %v)", err)
		}
	})
}

// FuzzParseIDX feeds arbitrary bytes (raw and gzip-compressed) to the IDX
// parser: it must refuse or return exactly the elements its header
// announces, without panicking or allocating from a lying header.
func FuzzParseIDX(f *testing.F) {
	f.Add(idxFile([]int{2, 3, 3}, make([]byte, 18)), uint8(3))
	f.Add(idxFile([]int{4}, []byte{1, 2, 3, 4}), uint8(1))
	f.Add(idxFile([]int{1 << 20, 1 << 10, 1 << 10}, nil), uint8(3))
	f.Add([]byte{0, 0, 8}, uint8(1))
	f.Fuzz(func(t *testing.T, raw []byte, dims uint8) {
		want := int(dims%4) + 1
		for _, b := range [][]byte{raw, gzBytes(raw)} {
			shape, data, err := parseIDX(b, want)
			if err != nil {
				continue
			}
			n := 1
			for _, d := range shape {
				n *= d
			}
			if len(shape) != want || len(data) != n {
				t.Fatalf("shape %v with %d elements", shape, len(data))
			}
		}
	})
}

func gzBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}
