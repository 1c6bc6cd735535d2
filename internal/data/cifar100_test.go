package data

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifar100Names returns n made-up class names of CIFAR-100's kind.
func cifar100Names(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s_%02d", prefix, i))
	}
	return out
}

// cifar100Records encodes n records in CIFAR-100's binary layout: record
// i has fine label (i*7)%100, coarse label fine/5, and pixels derived from
// i and seed. It returns the bytes and the fine and coarse labels.
func cifar100Records(n int, seed uint64) ([]byte, []uint8, []uint8, *Dataset) {
	d := synth(n, seed)
	var raw []byte
	fine, coarse := make([]uint8, n), make([]uint8, n)
	for i := range n {
		fine[i] = uint8((i * 7) % 100)
		coarse[i] = fine[i] / 5
		raw = append(raw, coarse[i], fine[i])
		raw = append(raw, d.Image(i)...)
	}
	return raw, fine, coarse, d
}

// writeCIFAR100Dir writes the official CIFAR-100 binary layout (under
// cifar-100-binary/ in dir) with nTrain and nTest records and, for record
// counts other than the official ones, lepton-records.json.
func writeCIFAR100Dir(t *testing.T, dir string, nTrain, nTest int) (train, test *Dataset, trainCoarse []uint8) {
	t.Helper()
	sub := filepath.Join(dir, CIFAR100Dir)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	trRaw, trFine, trCoarse, trD := cifar100Records(nTrain, 1)
	teRaw, teFine, _, teD := cifar100Records(nTest, 2)
	writeFile(t, filepath.Join(sub, cifar100Train), trRaw)
	writeFile(t, filepath.Join(sub, cifar100Test), teRaw)
	writeFile(t, filepath.Join(sub, cifar100FineNames), []byte(strings.Join(cifar100Names("fine", 100), "\n")+"\n"))
	writeFile(t, filepath.Join(sub, cifar100Coarse), []byte(strings.Join(cifar100Names("coarse", 20), "\n")+"\n"))
	card, _ := json.Marshal(map[string]int{cifar100Train: nTrain, cifar100Test: nTest})
	writeFile(t, filepath.Join(sub, RecordsFile), card)
	trD.Labels, teD.Labels = trFine, teFine
	trD.Classes, teD.Classes = cifar100Names("fine", 100), cifar100Names("fine", 100)
	return trD, teD, trCoarse
}

func TestCIFAR100(t *testing.T) {
	dir := t.TempDir()
	train, test, coarse := writeCIFAR100Dir(t, dir, 130, 40)
	tarPath := filepath.Join(t.TempDir(), "cifar-100-binary.tar.gz")
	var ms []member
	for _, name := range []string{cifar100Train, cifar100Test, cifar100FineNames, cifar100Coarse, RecordsFile} {
		b, err := os.ReadFile(filepath.Join(dir, CIFAR100Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, member{name: CIFAR100Dir + "/" + name, data: b})
	}
	writeTarGz(t, tarPath, ms)
	for _, loc := range []string{dir, filepath.Join(dir, CIFAR100Dir), tarPath} {
		t.Run(filepath.Base(loc), func(t *testing.T) {
			src, err := Open(Spec{Kind: KindCIFAR100, Dir: loc})
			if err != nil {
				t.Fatal(err)
			}
			if src.Geometry() != CIFARGeometry || len(src.Classes()) != 100 || src.Classes()[99] != "fine_99" {
				t.Fatalf("geometry %s, %d classes", src.Geometry(), len(src.Classes()))
			}
			got, err := src.Split(context.Background(), SplitTrain)
			if err != nil {
				t.Fatal(err)
			}
			equalDataset(t, got, train)
			gotTest, err := src.Split(context.Background(), SplitTest)
			if err != nil {
				t.Fatal(err)
			}
			equalDataset(t, gotTest, test)
		})
	}
	t.Run("coarse", func(t *testing.T) {
		src, err := Open(Spec{Kind: KindCIFAR100, Dir: dir, Label: LabelCoarse})
		if err != nil {
			t.Fatal(err)
		}
		got, err := src.Split(context.Background(), SplitTrain)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Labels, coarse) || !slices.Equal(got.Classes, cifar100Names("coarse", 20)) {
			t.Fatalf("coarse labels %v, classes %q", got.Labels[:5], got.Classes[:3])
		}
	})
	if got := Detect(dir); got != KindCIFAR100 {
		t.Errorf("Detect = %q", got)
	}
}

func TestCIFAR100Errors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, sub string)
		label string
		want  string
	}{
		{name: "official count", setup: func(t *testing.T, sub string) { removeFile(t, filepath.Join(sub, RecordsFile)) },
			want: "train.bin: 30 records, want 50000 (every official file holds 50000"},
		{name: "fine label out of range", setup: func(t *testing.T, sub string) {
			raw, _, _, _ := cifar100Records(30, 1)
			raw[3*(2+3072)+1] = 100
			writeFile(t, filepath.Join(sub, cifar100Train), raw)
		}, want: "train.bin: record 3: label 100 out of range 0..99"},
		{name: "coarse label out of range", label: LabelCoarse, setup: func(t *testing.T, sub string) {
			raw, _, _, _ := cifar100Records(30, 1)
			raw[5*(2+3072)] = 20
			writeFile(t, filepath.Join(sub, cifar100Train), raw)
		}, want: "train.bin: record 5: label 20 out of range 0..19"},
		{name: "too few fine names", setup: func(t *testing.T, sub string) {
			writeFile(t, filepath.Join(sub, cifar100FineNames), []byte("a\nb\n"))
		}, want: "fine_label_names.txt: want 100 non-empty class names, got 2"},
		{name: "size", setup: func(t *testing.T, sub string) {
			writeFile(t, filepath.Join(sub, cifar100Test), make([]byte, 3073))
		}, want: "test.bin: size 3073 is not a multiple of 3074"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR100Dir(t, dir, 30, 10)
			sub := filepath.Join(dir, CIFAR100Dir)
			tc.setup(t, sub)
			src, err := Open(Spec{Kind: KindCIFAR100, Dir: dir, Label: tc.label})
			if err == nil {
				_, err = Load(context.Background(), src, 0, 1)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "data dir "+sub) {
				t.Fatalf("err = %v, want %q naming data dir %s", err, tc.want, sub)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("not ErrInvalid: %v", err)
			}
		})
	}
}

// TestCIFAR10RecordCounts checks issue 10's silent truncation: without
// lepton-records.json every batch file must hold exactly 10,000 records,
// and with it the counts it lists.
func TestCIFAR10RecordCounts(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{name: "cut without records file", setup: func(t *testing.T, dir string) { removeFile(t, filepath.Join(dir, RecordsFile)) },
			want: "data_batch_1.bin: 4 records, want 10000 (every official file holds 10000; a subset lists its counts in lepton-records.json)"},
		{name: "cut below the records file", setup: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "data_batch_3.bin"), binBytes(t, synth(2, 9)))
		}, want: "data_batch_3.bin: 2 records, want 4 (as lepton-records.json says)"},
		{name: "empty file", setup: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "data_batch_5.bin"), nil) },
			want: "data_batch_5.bin: 0 records, want 4"},
		{name: "bad records file", setup: func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, RecordsFile), []byte("{")) },
			want: "lepton-records.json: unexpected end of JSON input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, _ := writeTestDir(t, 20, 5)
			tc.setup(t, dir)
			_, err := LoadTrain(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "data dir "+dir+": ") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("not ErrInvalid: %v", err)
			}
		})
	}
	// The official counts need no records file: TestRealData reads them.
}
