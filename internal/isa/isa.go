// Package isa names and orders the x86 instruction-set levels lepton's
// element-wise kernels (normalization, optimizer updates) are written for,
// so that one LEPTON_KERNEL value caps them all alike.
package isa

import "strings"

// Rank returns the level of the instruction set name, lowest first:
// "generic" 0, "avx2" 1, "avx512" 2, in any case and with the matrix
// multiply's "-fma" suffix ignored (so "avx2-fma" is "avx2"). ok is false
// for another name.
func Rank(name string) (rank int, ok bool) {
	rank, ok = ranks[strings.TrimSuffix(strings.ToLower(name), "-fma")]
	return rank, ok
}

var ranks = map[string]int{"generic": 0, "avx2": 1, "avx512": 2}
