package run

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

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
		if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
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

// TestFastPathMatchesPortablePath trains a few steps with lepton's SGEMM
// kernels and with gonum's portable pure-Go BLAS under Gorgonia and checks
// that the weights agree to float rounding: speed does not change the math.
// The difference of each tensor is measured against its largest weight.
func TestFastPathMatchesPortablePath(t *testing.T) {
	defer model.UseThreads(0)
	dataDir := cifartest.Toy(t, 200, 40, 5)
	tests := []struct {
		name string
		sets []string
		tol  float64
	}{
		{name: "sgd, 10 steps", sets: []string{"train.optimizer.name=sgd", "train.optimizer.lr=0.01"}, tol: 1e-5},
		{name: "adam, 10 steps", sets: nil, tol: 1e-4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			weights := map[string]map[string][]float32{}
			for _, path := range []string{"portable", "fast"} {
				if path == "portable" {
					G.Use(gonum.Implementation{})
				} else {
					model.UseThreads(1)
				}
				dir := filepath.Join(t.TempDir(), "run")
				cfg := toyConfig(t, append([]string{"model.hidden=[64,32]", "train.epochs=1"}, tc.sets...)...)
				if _, err := Train(context.Background(), Options{Config: cfg, DataDir: dataDir, OutDir: dir, Quiet: true}); err != nil {
					t.Fatal(err)
				}
				ck, err := checkpoint.Load(rundir.Last(dir))
				if err != nil {
					t.Fatal(err)
				}
				weights[path] = map[string][]float32{}
				for _, ts := range ck.Tensors {
					weights[path][ts.Name] = ts.Data
				}
			}
			var worst float64
			for name, a := range weights["portable"] {
				b := weights["fast"][name]
				var diff, scale float64
				for i := range a {
					diff = math.Max(diff, math.Abs(float64(a[i])-float64(b[i])))
					scale = math.Max(scale, math.Abs(float64(a[i])))
				}
				if scale > 0 {
					worst = math.Max(worst, diff/scale)
				}
			}
			t.Logf("largest difference, relative to the tensor's largest weight: %.2g", worst)
			if worst > tc.tol {
				t.Fatalf("fast and portable paths differ by %.2g, more than float rounding (%g)", worst, tc.tol)
			}
		})
	}
}
