//go:build !linux

package model

// SystemMemory reports the machine's memory where lepton knows how to read
// it (Linux); elsewhere ok is false and memory checks are skipped.
func SystemMemory() (available, total int64, ok bool) { return 0, 0, false }
