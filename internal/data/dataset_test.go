package data

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDatasetAccessors(t *testing.T) {
	d := synth(5, 7)
	if got := d.Len(); got != 5 {
		t.Fatalf("Len = %d, want 5", got)
	}
	img := d.Image(3)
	if len(img) != imageSize || cap(img) != imageSize {
		t.Fatalf("Image(3) len %d cap %d, want %d", len(img), cap(img), imageSize)
	}
	if !bytes.Equal(img, d.Images[3*imageSize:4*imageSize]) {
		t.Fatal("Image(3) does not match bytes 3*3072..4*3072")
	}
	img[0]++
	if d.Images[3*imageSize] != img[0] {
		t.Fatal("Image is not a view into Images")
	}

	tests := []struct {
		name string
		idx  []int
	}{
		{name: "empty", idx: nil},
		{name: "reordered", idx: []int{4, 0, 2}},
		{name: "repeated", idx: []int{1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := d.Subset(tc.idx)
			if s.Len() != len(tc.idx) || len(s.Images) != len(tc.idx)*imageSize {
				t.Fatalf("Subset len %d / %d bytes, want %d", s.Len(), len(s.Images), len(tc.idx))
			}
			for j, i := range tc.idx {
				if s.Labels[j] != d.Labels[i] || !bytes.Equal(s.Image(j), d.Image(i)) {
					t.Errorf("subset image %d differs from image %d", j, i)
				}
			}
			if len(tc.idx) > 0 {
				s.Images[0]++
				s.Classes[0] = "changed"
				if d.Images[tc.idx[0]*imageSize] == s.Images[0] || d.Classes[0] == "changed" {
					t.Error("Subset shares memory with the original")
				}
			}
		})
	}
}

func TestReadBatch(t *testing.T) {
	d := synth(3, 1)
	good := binBytes(t, d)
	badLabel := bytes.Clone(good)
	badLabel[2*RecordSize] = 10
	tests := []struct {
		name    string
		raw     []byte
		wantN   int
		wantErr string
	}{
		{name: "empty", raw: nil, wantN: 0},
		{name: "three records", raw: good, wantN: 3},
		{name: "truncated", raw: good[:RecordSize+5], wantErr: "x.bin: size 3078 is not a multiple of 3073"},
		{name: "bad label", raw: badLabel, wantErr: "x.bin: record 2: label 10 out of range 0..9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadBatch("x.bin", tc.raw)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadBatch: %v", err)
			}
			if got.Len() != tc.wantN {
				t.Fatalf("Len = %d, want %d", got.Len(), tc.wantN)
			}
			if tc.wantN > 0 {
				equalDataset(t, &Dataset{Geometry: cifar, Images: got.Images, Labels: got.Labels}, &Dataset{Geometry: cifar, Images: d.Images, Labels: d.Labels})
			}
		})
	}
}

func TestWriteBinRejectsInconsistentDataset(t *testing.T) {
	err := WriteBin(&bytes.Buffer{}, &Dataset{Geometry: cifar, Images: make([]byte, 10), Labels: []uint8{1}})
	if err == nil || !strings.Contains(err.Error(), "10 image bytes for 1 labels") {
		t.Fatalf("err = %v, want inconsistent-size error", err)
	}
}

func TestWriteDirSplitsTrainAcrossBatches(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		wantSizes []int
	}{
		{name: "empty", n: 0, wantSizes: []int{0, 0, 0, 0, 0}},
		{name: "three", n: 3, wantSizes: []int{0, 1, 0, 1, 1}},
		{name: "twelve", n: 12, wantSizes: []int{2, 2, 3, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, train, _ := writeTestDir(t, tc.n, 2)
			for k, name := range TrainFiles() {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if got := int(fi.Size()) / RecordSize; got != tc.wantSizes[k] || fi.Size()%RecordSize != 0 {
					t.Errorf("%s: size %d, want %d records", name, fi.Size(), tc.wantSizes[k])
				}
			}
			got, err := LoadTrain(dir)
			if err != nil {
				t.Fatalf("LoadTrain: %v", err)
			}
			equalDataset(t, got, train)
		})
	}
}

func TestLoadLayouts(t *testing.T) {
	dir, train, test := writeTestDir(t, 23, 11)

	parent := t.TempDir()
	sub := filepath.Join(parent, ArchiveDir)
	if err := WriteDir(sub, train, test); err != nil {
		t.Fatal(err)
	}

	tarDir := t.TempDir()
	official := filepath.Join(tarDir, "cifar-10-binary.tar.gz")
	ms := dirMembers(t, dir, ArchiveDir+"/")
	ms = append(ms, member{name: ArchiveDir + "/readme.html", data: []byte("<html>")})
	writeTarGz(t, official, ms)

	// Members at the top level, in a scrambled order with "./" prefixes.
	flat := filepath.Join(tarDir, "flat.tar.gz")
	fm := dirMembers(t, dir, "./")
	fm[0], fm[4], fm[5] = fm[5], fm[0], fm[4]
	writeTarGz(t, flat, fm)

	tests := []struct {
		name, src string
	}{
		{name: "flat dir", src: dir},
		{name: "official subdir", src: parent},
		{name: "official tarball", src: official},
		{name: "flat tarball", src: flat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotTrain, err := LoadTrain(tc.src)
			if err != nil {
				t.Fatalf("LoadTrain: %v", err)
			}
			equalDataset(t, gotTrain, train)
			gotTest, err := LoadTest(tc.src)
			if err != nil {
				t.Fatalf("LoadTest: %v", err)
			}
			equalDataset(t, gotTest, test)
		})
	}
}

func TestLoadTestNeedsOnlyTestBatch(t *testing.T) {
	dir, _, test := writeTestDir(t, 10, 4)
	for _, name := range TrainFiles() {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadTest(dir)
	if err != nil {
		t.Fatalf("LoadTest: %v", err)
	}
	equalDataset(t, got, test)
}

func TestLoadErrors(t *testing.T) {
	noData := func(loc string) string {
		return `no CIFAR-10 data in ` + loc + `: run "lepton data fetch" (or set LEPTON_DATA_DIR / --data)`
	}
	tests := []struct {
		name string
		// setup prepares a valid data dir and returns the source to load.
		setup     func(t *testing.T, dir string) string
		test      bool // LoadTest instead of LoadTrain
		want      func(src string) string
		wantNoDat bool
		wantNotEx bool
	}{
		{
			name: "size not multiple",
			setup: func(t *testing.T, dir string) string {
				writeFile(t, filepath.Join(dir, "data_batch_3.bin"), make([]byte, 1000))
				return dir
			},
			want: func(src string) string {
				return "data dir " + src + ": data_batch_3.bin: size 1000 is not a multiple of 3073"
			},
		},
		{
			name: "label out of range",
			setup: func(t *testing.T, dir string) string {
				raw := binBytes(t, synth(20, 3))
				raw[17*RecordSize] = 12
				writeFile(t, filepath.Join(dir, TestFile), raw)
				return dir
			},
			test: true,
			want: func(src string) string {
				return "data dir " + src + ": test_batch.bin: record 17: label 12 out of range 0..9"
			},
		},
		{
			name: "missing batch",
			setup: func(t *testing.T, dir string) string {
				removeFile(t, filepath.Join(dir, "data_batch_2.bin"))
				return dir
			},
			want:      func(src string) string { return "data dir " + src + ": data_batch_2.bin: no such file" },
			wantNotEx: true,
		},
		{
			name: "missing meta",
			setup: func(t *testing.T, dir string) string {
				removeFile(t, filepath.Join(dir, MetaFile))
				return dir
			},
			test:      true,
			want:      func(src string) string { return "data dir " + src + ": batches.meta.txt: no such file" },
			wantNotEx: true,
		},
		{
			name: "meta with nine names",
			setup: func(t *testing.T, dir string) string {
				writeFile(t, filepath.Join(dir, MetaFile), []byte(strings.Join(DefaultClasses()[:9], "\n")+"\n\n"))
				return dir
			},
			want: func(src string) string {
				return "data dir " + src + ": batches.meta.txt: want 10 non-empty class names, got 9"
			},
		},
		{
			name: "meta with eleven names",
			setup: func(t *testing.T, dir string) string {
				writeFile(t, filepath.Join(dir, MetaFile), []byte(strings.Join(append(DefaultClasses(), "x"), "\n")))
				return dir
			},
			test: true,
			want: func(src string) string {
				return "data dir " + src + ": batches.meta.txt: want 10 non-empty class names, got 11"
			},
		},
		{
			name:      "dir does not exist",
			setup:     func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") },
			want:      noData,
			wantNoDat: true,
			wantNotEx: true,
		},
		{
			name: "dir without cifar files",
			setup: func(t *testing.T, dir string) string {
				empty := filepath.Join(dir, "empty")
				if err := os.MkdirAll(filepath.Join(empty, ArchiveDir), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(empty, "notes.txt"), []byte("hi"))
				return empty
			},
			test:      true,
			want:      noData,
			wantNoDat: true,
		},
		{
			name:      "tarball does not exist",
			setup:     func(t *testing.T, dir string) string { return filepath.Join(dir, "cifar-10-binary.tar.gz") },
			want:      noData,
			wantNoDat: true,
			wantNotEx: true,
		},
		{
			name: "tarball without cifar files",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "other.tar.gz")
				writeTarGz(t, p, []member{{name: "other/data_batch_1.bin", data: []byte("x")}, {name: "README", data: []byte("x")}})
				return p
			},
			want:      noData,
			wantNoDat: true,
		},
		{
			name: "tarball missing batch",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "c.tar.gz")
				ms := dirMembers(t, dir, ArchiveDir+"/")
				writeTarGz(t, p, append(ms[:2], ms[3:]...))
				return p
			},
			want:      func(src string) string { return "archive " + src + ": data_batch_2.bin: no such file" },
			wantNotEx: true,
		},
		{
			name: "tarball with bad size",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "c.tar.gz")
				ms := dirMembers(t, dir, ArchiveDir+"/")
				ms[6].data = ms[6].data[:RecordSize-1] // [0] is the directory entry
				writeTarGz(t, p, ms)
				return p
			},
			test: true,
			want: func(src string) string {
				return "archive " + src + ": test_batch.bin: size 3072 is not a multiple of 3073"
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, _ := writeTestDir(t, 30, 20)
			src := tc.setup(t, dir)
			load := LoadTrain
			if tc.test {
				load = LoadTest
			}
			d, err := load(src)
			if err == nil {
				t.Fatalf("loaded %d images, want error %q", d.Len(), tc.want(src))
			}
			if got := err.Error(); got != tc.want(src) {
				t.Errorf("error = %q, want %q", got, tc.want(src))
			}
			if got := errors.Is(err, ErrNoData); got != tc.wantNoDat {
				t.Errorf("errors.Is(err, ErrNoData) = %v, want %v", got, tc.wantNoDat)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tc.wantNotEx {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v, want %v", got, tc.wantNotEx)
			}
		})
	}
}

func TestLoadNotGzip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "data.tar.gz")
	writeFile(t, p, []byte("this is not gzip"))
	_, err := LoadTest(p)
	if err == nil || !strings.HasPrefix(err.Error(), "open archive "+p+": ") || errors.Is(err, ErrNoData) {
		t.Fatalf("err = %v, want an open-archive error", err)
	}
}

func TestLoadAcceptsLenientMeta(t *testing.T) {
	dir, _, _ := writeTestDir(t, 0, 3)
	meta := "\r\n" + strings.Join(DefaultClasses(), " \r\n") + "\r\n\r\n"
	writeFile(t, filepath.Join(dir, MetaFile), []byte(meta))
	d, err := LoadTest(dir)
	if err != nil {
		t.Fatalf("LoadTest: %v", err)
	}
	if d.Classes[0] != "airplane" || d.Classes[9] != "truck" {
		t.Fatalf("classes = %q", d.Classes)
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}
