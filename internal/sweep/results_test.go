package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/rundir"
)

// fakeTrial lays out a trial's run files: metrics.csv with the given
// validation accuracies, and a report when status is not "".
func fakeTrial(t *testing.T, dir string, i int, valAcc []float64, status string, testAcc float64) {
	t.Helper()
	td := TrialDir(dir, i)
	var m strings.Builder
	m.WriteString("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n")
	best := 0.0
	for e, v := range valAcc {
		fmt.Fprintf(&m, "%d,1.5,0.4,%g,%g,0.001,1.0\n", e+1, 2-v, v)
		best = max(best, v)
	}
	if len(valAcc) > 0 {
		os.WriteFile(filepath.Join(td, rundir.MetricsFile), []byte(m.String()), 0o644)
	}
	if status != "" {
		rep := map[string]any{"name": "toy", "status": status, "epochs": len(valAcc), "best_epoch": 1, "best_val_acc": best,
			"train_seconds": float64(len(valAcc))}
		if status == "finished" {
			rep["test"] = map[string]any{"accuracy": testAcc, "count": 100}
		}
		b, _ := json.Marshal(rep)
		os.WriteFile(filepath.Join(td, rundir.ReportFile), b, 0o644)
	}
}

func TestResultsRankTrialsWithAColumnPerParameter(t *testing.T) {
	f, trials := resolve(t, writeSweep(t, `base: base.yaml
parameters:
  train.optimizer.lr: {values: [0.001, 0.003]}
  model.hidden: {values: [[16], [32, 16]]}
`))
	dir := filepath.Join(t.TempDir(), "sweep")
	if err := Prepare(dir, f, trials); err != nil {
		t.Fatal(err)
	}
	fakeTrial(t, dir, 0, []float64{0.30, 0.35}, "finished", 0.34)
	fakeTrial(t, dir, 1, []float64{0.40, 0.38}, "finished", 0.39)
	fakeTrial(t, dir, 2, []float64{0.36}, "interrupted", 0)
	os.MkdirAll(filepath.Join(TrialDir(dir, 2), rundir.CheckpointDir), 0o755)
	// trial 003 has not started.

	g, results, err := Results(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []int
	for _, r := range results {
		order = append(order, r.Trial)
	}
	if fmt.Sprint(order) != "[1 2 0 3]" {
		t.Fatalf("ranked trials %v, want [1 2 0 3] (best val_acc first, pending last)", order)
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteResults(&b, g.Keys(), results, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "results."+format, bytes.ReplaceAll(b.Bytes(), []byte(dir), []byte("SWEEP")))
		})
	}
	var b bytes.Buffer
	WriteResults(&b, g.Keys(), results, "json")
	var rows []map[string]any
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	first := rows[0]
	if first["trial"] != 1.0 || first["status"] != "finished" || first["train.optimizer.lr"] != 0.001 ||
		fmt.Sprint(first["model.hidden"]) != "[32 16]" || first["val_acc"] != 0.4 || first["test_acc"] != 0.39 || first["val_loss"] != 1.6 {
		t.Errorf("first JSON row %v", first)
	}
	if last := rows[3]; last["status"] != "pending" || last["rank"] != nil || last["val_acc"] != nil {
		t.Errorf("pending trial's row %v", last)
	}

	path, err := Plot(dir, g, results)
	if err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil || img.Bounds().Dx() < 1000 {
		t.Fatalf("sweep.png: %v, %v", img.Bounds(), err)
	}
}

func TestRankMinimizesLoss(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	results := []Result{{Trial: 0, ValLoss: v(1.2)}, {Trial: 1}, {Trial: 2, ValLoss: v(0.9)}, {Trial: 3, ValLoss: v(1.2)}}
	Rank(results, "val_loss", "minimize")
	var got []string
	for _, r := range results {
		got = append(got, fmt.Sprintf("%d:%d", r.Trial, r.Rank))
	}
	if strings.Join(got, " ") != "2:1 0:2 3:3 1:0" {
		t.Fatalf("ranked %v, want 2:1 0:2 3:3 1:0", got)
	}
}
