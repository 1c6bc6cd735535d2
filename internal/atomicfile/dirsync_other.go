//go:build !unix

package atomicfile

// syncDir is a no-op on platforms where directories cannot be fsynced.
func syncDir(string) error { return nil }
