package runs

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// TestSummarizeDrawsSteps checks that "lepton report" redraws a short
// run's curves with its per-step loss (steps.csv), in the light blue the
// per-step line is drawn in.
func TestSummarizeDrawsSteps(t *testing.T) {
	parent := layout(t, []fixture{{name: "short", config: "mlp", epochs: 3, seconds: 5}})
	dir := filepath.Join(parent, "short")
	var recs []train.StepRecord
	for i := range 60 {
		recs = append(recs, train.StepRecord{Step: int64(i + 1), Epoch: i/20 + 1, EpochStep: i%20 + 1, EpochSteps: 20,
			Loss: 2.0 / float64(i/20+1) * (1 + 0.3*float64(i%3-1)), LR: 0.001})
	}
	var b strings.Builder
	if err := train.WriteSteps(&b, recs); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, rundir.StepsFile), []byte(b.String()), 0o644)
	s, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(s.Curves)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	light := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, 0x9D) && near(g>>8, 0xC6) && near(bl>>8, 0xE0) {
				light++
			}
		}
	}
	if light < 300 {
		t.Errorf("%d pixels of the per-step line's colour in %s, want the per-step loss drawn", light, s.Curves)
	}
}

func near(v, w uint32) bool { return v+6 >= w && v <= w+6 }
