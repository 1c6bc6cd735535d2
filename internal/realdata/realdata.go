// Package realdata decides, for tests, whether the real CIFAR-10 data set
// is present: the one place that reads LEPTON_DATA_DIR and CI for them.
// It imports no lepton package, so that every package's tests (internal/data's
// included) can use it.
package realdata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names the directory holding the real CIFAR-10 binary version.
const EnvDir = "LEPTON_DATA_DIR"

// Files are the files a CIFAR-10 directory holds (the names
// internal/data reads; its tests check the two lists agree).
var Files = []string{
	"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
	"test_batch.bin", "batches.meta.txt",
}

// Dir returns the real CIFAR-10 directory named by LEPTON_DATA_DIR when it
// holds every one of Files. Otherwise the test fails when CI is set (CI
// must run the real-data tests) and is skipped elsewhere.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvDir)
	missing := "LEPTON_DATA_DIR is not set"
	if dir != "" {
		missing = ""
		for _, f := range Files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				missing = err.Error()
				break
			}
		}
		if missing == "" {
			return dir
		}
	}
	msg := "real CIFAR-10 data needed: set " + EnvDir + " to a directory holding data_batch_1..5.bin, test_batch.bin and batches.meta.txt (" + missing + ")"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
		return ""
	}
	t.Skip(msg)
	return ""
}

// Beside returns the real data set directory name (mnist or fashion-mnist)
// that sits beside the CIFAR-10 directory LEPTON_DATA_DIR names (as
// /work/shared/data/{cifar-10-batches-bin,mnist,fashion-mnist}). When it is
// missing the test fails when CI is set and is skipped elsewhere.
func Beside(t testing.TB, name string) string {
	t.Helper()
	base := os.Getenv(EnvDir)
	dir := filepath.Join(filepath.Dir(base), name)
	if fi, err := os.Stat(dir); base != "" && err == nil && fi.IsDir() {
		return dir
	}
	msg := "real " + name + " data needed beside " + EnvDir + ": want the directory " + dir
	if base == "" {
		msg = "real " + name + " data needed: set " + EnvDir + " to the CIFAR-10 directory with " + name + "/ beside it"
	}
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
		return ""
	}
	t.Skip(msg)
	return ""
}
