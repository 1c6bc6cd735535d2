package sweep

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// demoSweep is the sweep of the golden files, as read from a sweep
// directory.
func demoSweep(t *testing.T) *File {
	t.Helper()
	f, err := Parse([]byte(`base: /sweeps/configs/mlp.yaml
set: {train.epochs: 1}
parameters:
  train.optimizer.lr: {values: [0.001, 0.003]}
  model.hidden: {values: [[128, 64, 32, 16], [256, 128]]}
resources: {cpus: 2, memory: 6G, time: "2:00:00"}
slurm: {partition: batch, account: vision}
kubernetes: {namespace: ml, volume_claim: sweeps}
`), "/sweeps/demo/sweep.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return f
}
