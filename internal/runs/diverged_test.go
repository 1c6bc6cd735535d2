package runs

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/train"
)

// TestDivergedRun lists a diverged run whose report.json holds NaN and
// infinite values (as "NaN", "+Inf" strings): its status is "diverged",
// the non-finite numbers are unknown ("-", null), every format is valid,
// and a hidden directory being created beside it is not listed.
func TestDivergedRun(t *testing.T) {
	parent := layout(t, []fixture{{name: "div", config: "mlp"}})
	dir := filepath.Join(parent, "div")
	rep := &report.Report{Name: "mlp", Status: report.StatusDiverged, Epochs: 1, BestEpoch: 1, BestValAcc: math.NaN(),
		TrainSeconds: math.Inf(1), Error: "epoch 2 step 7: training diverged: the training loss is NaN",
		History: []train.EpochMetrics{{Epoch: 1, TrainLoss: math.Inf(1), ValLoss: math.NaN(), ValAcc: 0.1}}}
	if err := report.Write(dir, rep); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(parent, ".next.tmp123", "checkpoints"), 0o755)
	os.WriteFile(filepath.Join(parent, ".next.tmp123", "config.yaml"), []byte("name: x\n"), 0o644)

	runs, warnings, err := List(parent)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("List: %v, warnings %v", err, warnings)
	}
	if len(runs) != 1 || runs[0].Status != Diverged || runs[0].BestValAcc != nil || runs[0].Minutes != nil {
		t.Fatalf("runs %+v, want only div, diverged, with unknown best_val_acc and minutes", runs)
	}
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, runs, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !strings.Contains(b.String(), "diverged") {
			t.Errorf("%s output lacks the status:\n%s", format, b.String())
		}
		if format == "json" && !json.Valid(b.Bytes()) {
			t.Errorf("invalid JSON:\n%s", b.String())
		}
	}
	s, err := Summarize(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil || !json.Valid(b.Bytes()) {
		t.Fatalf("summary JSON: %v\n%s", err, b.String())
	}
}
