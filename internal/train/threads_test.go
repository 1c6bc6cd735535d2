package train

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// TestSameWeightsAcrossThreadCounts trains the same config with 1 and 2
// compute threads and compares every tensor of the final checkpoints bit
// for bit (the stored configs differ in train.threads, so the files do).
func TestSameWeightsAcrossThreadCounts(t *testing.T) {
	defer model.UseThreads(0)
	dataDir := cifartest.Toy(t, 300, 40, 5)
	sets := []string{"model.hidden=[300,40]", "train.batch_size=100", "model.batch_norm=true", "model.dropout=0.1", "data.augment.flip=true"}
	tensors := map[int]map[string][]float32{}
	for _, threads := range []int{1, 2} {
		model.UseThreads(threads)
		dir := filepath.Join(t.TempDir(), "run")
		cfg := toyConfig(t, append(sets, "train.threads="+string(rune('0'+threads)))...)
		if _, err := Run(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
			t.Fatal(err)
		}
		ck, err := checkpoint.Load(rundir.Last(dir))
		if err != nil {
			t.Fatal(err)
		}
		tensors[threads] = map[string][]float32{}
		for _, ts := range ck.Tensors {
			tensors[threads][ts.Name] = ts.Data
		}
	}
	if len(tensors[1]) == 0 || len(tensors[1]) != len(tensors[2]) {
		t.Fatalf("tensor counts %d and %d", len(tensors[1]), len(tensors[2]))
	}
	for name, a := range tensors[1] {
		b := tensors[2][name]
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s[%d]: %v with 1 thread, %v with 2", name, i, a[i], b[i])
			}
		}
	}
}
