package model

import (
	"math"
	"runtime"
	"strings"
	"testing"
)

func TestTrainingMemory(t *testing.T) {
	base := Spec{Input: 3072, Hidden: []int{128, 64, 32, 16}, Classes: 10, Activation: "relu", Init: "he"}
	withBN := base
	withBN.BatchNorm = true
	withBN.Dropout = []float64{0.5, 0.5, 0.5, 0.5}
	huge := base
	huge.Hidden = []int{100000, 100000}
	tests := []struct {
		name     string
		spec     Spec
		slots    int
		min, max float64 // bounds of Total, bytes
	}{
		{name: "reference model, adam", spec: base, slots: 2, min: 10e6, max: 100e6},
		{name: "batch norm and dropout, sgd", spec: withBN, slots: 1, min: 10e6, max: 100e6},
		{name: "hidden [100000, 100000]", spec: huge, slots: 2, min: 400e9, max: 500e9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := TrainingMemory(tc.spec, 128, 500, tc.slots)
			if tc.spec.Hidden[0] < 1000 {
				// The parameter count matches the parameters NewParams makes.
				p, err := NewParams(tc.spec, 1)
				if err != nil {
					t.Fatal(err)
				}
				if int(m.Parameters) != p.Count() {
					t.Errorf("Parameters = %.0f, NewParams makes %d", m.Parameters, p.Count())
				}
			}
			if got := m.Total(); got < tc.min || got > tc.max {
				t.Errorf("Total = %s, want between %.3g and %.3g bytes: %s", bytesText(got), tc.min, tc.max, m)
			}
			if m.Optimizer != float64(4*tc.slots)*m.Parameters {
				t.Errorf("Optimizer = %.0f for %d buffers of %.0f parameters", m.Optimizer, tc.slots, m.Parameters)
			}
		})
	}
}

func TestTrainingMemoryDoesNotOverflow(t *testing.T) {
	spec := Spec{Input: math.MaxInt, Hidden: []int{math.MaxInt, math.MaxInt}, Classes: 10, Activation: "relu", Init: "he"}
	m := TrainingMemory(spec, math.MaxInt, 500, 2)
	if tot := m.Total(); !(tot > 1e38) || math.IsNaN(tot) {
		t.Fatalf("Total = %v, want a huge finite number", tot)
	}
}

func TestCheckMemory(t *testing.T) {
	avail, total, ok := SystemMemory()
	if runtime.GOOS == "linux" && !ok {
		t.Fatal("SystemMemory unknown on Linux")
	}
	if !ok {
		if err := CheckMemory(MemoryEstimate{Weights: 1e30}); err != nil {
			t.Fatalf("CheckMemory with unknown memory = %v, want nil", err)
		}
		return
	}
	if avail <= 0 || total < avail {
		t.Fatalf("SystemMemory = %d available, %d total", avail, total)
	}
	if err := CheckMemory(MemoryEstimate{Weights: 1 << 20}); err != nil {
		t.Errorf("CheckMemory(1 MiB) = %v", err)
	}
	huge := Spec{Input: 3072, Hidden: []int{100000, 100000}, Classes: 10, Activation: "relu", Init: "he"}
	err := CheckMemory(TrainingMemory(huge, 128, 500, 2))
	if err == nil {
		t.Fatal("CheckMemory of a 450 GB model = nil")
	}
	for _, want := range []string{"training this model needs about 4", "10308400010 parameters", "of memory available (", " total)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestBytesText(t *testing.T) {
	tests := []struct {
		name string
		b    float64
		want string
	}{
		{name: "bytes", b: 999, want: "999 bytes"},
		{name: "kB", b: 1500, want: "1.50 kB"},
		{name: "MB", b: 98.76e6, want: "98.8 MB"},
		{name: "GB", b: 447.2e9, want: "447 GB"},
		{name: "beyond EB", b: 3e30, want: "3000000000000 EB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := bytesText(tc.b); got != tc.want {
				t.Errorf("bytesText(%v) = %q, want %q", tc.b, got, tc.want)
			}
		})
	}
}
