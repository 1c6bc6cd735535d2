package isa

import "testing"

func TestRank(t *testing.T) {
	tests := []struct {
		name string
		rank int
		ok   bool
	}{
		{"generic", 0, true},
		{"avx2", 1, true},
		{"AVX2-FMA", 1, true},
		{"avx512", 2, true},
		{"avx512-fma", 2, true},
		{"sse4", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		rank, ok := Rank(tc.name)
		if rank != tc.rank || ok != tc.ok {
			t.Errorf("Rank(%q) = %d, %v; want %d, %v", tc.name, rank, ok, tc.rank, tc.ok)
		}
	}
}
