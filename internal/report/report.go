// Package report is a training run's report.json: the one type that the
// run composer writes and that "lepton runs", "lepton report" and the
// sweep tooling read back.
package report

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/jsonfloat"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/regularfile"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// Status values of a run's report.
const (
	StatusFinished    = "finished"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
	// StatusDiverged: training stopped at a non-finite loss, gradient norm
	// or parameter (Error says where); the checkpoints hold the last good
	// state.
	StatusDiverged = "diverged"
)

// MaxSize is the largest report.json Read accepts (a report is a few
// kilobytes per epoch).
const MaxSize = 64 << 20

// Report is the content of report.json.
type Report struct {
	Name            string               `json:"name"`
	Status          string               `json:"status"` // finished, interrupted, failed or diverged
	Error           string               `json:"error,omitempty"`
	Test            metrics.Report       `json:"test"`
	TestLoss        float64              `json:"test_loss"`
	Epochs          int                  `json:"epochs"`
	BestEpoch       int                  `json:"best_epoch"`
	BestValAcc      float64              `json:"best_val_acc"`
	TrainSeconds    float64              `json:"train_seconds"`
	SecondsPerEpoch float64              `json:"seconds_per_epoch"`
	TrainImages     int                  `json:"train_images"`
	ValImages       int                  `json:"val_images"`
	Parameters      int                  `json:"parameters"`
	History         []train.EpochMetrics `json:"history"`
	Checkpoint      string               `json:"checkpoint"`
	StoppedEarly    bool                 `json:"stopped_early"`
	Data            *Data                `json:"data,omitempty"`
	// Kernel is the matrix-multiply micro-kernel the run used
	// ("avx512-fma", "avx2-fma" or "generic"; LEPTON_KERNEL forces one).
	Kernel string `json:"kernel,omitempty"`
}

// Data says what a run trained on.
type Data struct {
	// Kind is the data set's kind (data.dataset).
	Kind string `json:"kind"`
	// Location is the data set's directory or archive.
	Location string `json:"location"`
	// Geometry is the images' shape as the model sees them.
	Geometry data.Geometry `json:"geometry"`
	// Classes are the class names, indexed by label.
	Classes []string `json:"classes"`
	// Skipped lists the files that could not be decoded (folders).
	Skipped []data.Skipped `json:"skipped"`
}

// DataOf describes the data set src at location for a report.
func DataOf(src data.Source, location string) *Data {
	skipped := data.SkippedOf(src)
	if skipped == nil {
		skipped = []data.Skipped{}
	}
	return &Data{Kind: src.Kind(), Location: location, Geometry: src.Geometry(), Classes: src.Classes(), Skipped: skipped}
}

// reportJSON is Report's JSON form: its own float fields are jsonfloat
// values, so NaN and ±Inf are written as "NaN", "+Inf" and "-Inf" (as in
// checkpoints' metadata) instead of making the report unwritable; the
// history's entries encode themselves the same way. The outer fields
// shadow the embedded ones of the same name.
type reportJSON struct {
	plainReport
	TestLoss        jsonfloat.Float `json:"test_loss"`
	BestValAcc      jsonfloat.Float `json:"best_val_acc"`
	TrainSeconds    jsonfloat.Float `json:"train_seconds"`
	SecondsPerEpoch jsonfloat.Float `json:"seconds_per_epoch"`
}

// plainReport is Report without its methods.
type plainReport Report

// MarshalJSON implements json.Marshaler.
func (r Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(reportJSON{plainReport: plainReport(r), TestLoss: jsonfloat.Float(r.TestLoss),
		BestValAcc: jsonfloat.Float(r.BestValAcc), TrainSeconds: jsonfloat.Float(r.TrainSeconds),
		SecondsPerEpoch: jsonfloat.Float(r.SecondsPerEpoch)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Report) UnmarshalJSON(b []byte) error {
	var j reportJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Report(j.plainReport)
	r.TestLoss, r.BestValAcc = float64(j.TestLoss), float64(j.BestValAcc)
	r.TrainSeconds, r.SecondsPerEpoch = float64(j.TrainSeconds), float64(j.SecondsPerEpoch)
	return nil
}

// Fill copies a training loop's progress into the report: epochs, the best
// epoch and its validation accuracy, the history and the training time.
func (r *Report) Fill(l *train.Loop) {
	bm, _ := l.Best()
	r.Epochs, r.BestEpoch, r.BestValAcc, r.History = l.Epoch, l.BestEpoch, bm.ValAcc, l.History
	r.StoppedEarly = l.Stopped
	r.TrainSeconds = 0
	for _, m := range l.History {
		r.TrainSeconds += m.Seconds
	}
	r.SecondsPerEpoch = r.TrainSeconds / float64(max(1, l.Epoch))
}

// Path returns the report.json of a run directory.
func Path(dir string) string { return filepath.Join(dir, rundir.ReportFile) }

// Write stores rep as dir's report.json, atomically.
func Write(dir string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return atomicfile.WriteFile(Path(dir), append(b, '\n'), 0o644)
}

// Decode parses the content of a report.json.
func Decode(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	return &r, nil
}

// Read reads and parses the report.json at path. A missing file's error
// matches fs.ErrNotExist.
func Read(path string) (*Report, error) {
	b, err := regularfile.ReadFile(path, MaxSize)
	if err != nil {
		return nil, err
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}
