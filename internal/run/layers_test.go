package run

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layer is each internal package's place in lepton's data flow (config ->
// data -> model -> train -> checkpoint and report -> run): a package may
// import only packages of a lower layer, so no package reaches back up the
// chain. A new package must be given its layer here.
var layer = map[string]int{
	// Leaves: file formats, kernels and tools that know nothing of lepton's flow.
	"atomicfile": 0, "blas": 0, "isa": 0, "metrics": 0, "schedule": 0,
	"jsonfloat": 0, "failpoint": 0, "realdata": 0, "regularfile": 0,
	"rundir": 1, "plot": 1, "checkpoint": 1, "imaging": 1, "model": 1,
	// The optimizers pick their kernels by isa's ranking.
	"optim": 1,
	// The data sets decode their images with imaging.
	"data": 2,
	// The config converts its sections into the lower packages' settings.
	"config": 3, "engine": 3, "cifartest": 3,
	"classifier": 4,
	"train":      5, "predict": 5, "evaluate": 6, "onnx": 5,
	"report": 6,
	// The model server: checkpoints through classifier, answers in predict's shape.
	"serve": 6,
	"run":   7, "runs": 7,
	// Many runs: runs each trial as a lepton train process, reads them back with runs.
	"sweep": 8,
}

func TestPackagesDoNotReachBackUp(t *testing.T) {
	const prefix = "github.com/lepton-cli/lepton/internal/"
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		pkg, err := build.ImportDir(filepath.Join("..", name), 0)
		if err != nil {
			continue // no Go files
		}
		own, ok := layer[name]
		if !ok {
			t.Errorf("internal/%s has no layer in layers_test.go", name)
			continue
		}
		for _, imp := range pkg.Imports {
			dep, ok := strings.CutPrefix(imp, prefix)
			if !ok {
				continue
			}
			if l, known := layer[dep]; known && l >= own {
				t.Errorf("internal/%s (layer %d) imports internal/%s (layer %d): dependencies must point down the chain", name, own, dep, l)
			}
		}
	}
}
