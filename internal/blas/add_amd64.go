//go:build amd64 && !purego

package blas

// addAVX2 adds n floats at src to the n floats at dst; n is a positive
// multiple of 32. The caller checks the bounds.
//
//go:noescape
func addAVX2(dst, src *float32, n int)
