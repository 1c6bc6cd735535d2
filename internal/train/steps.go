package train

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// StepEpochs is the most epochs a run may have for its steps to be
// recorded (steps.csv) and its loss and learning rate drawn per step:
// beyond, the per-epoch points tell the story.
const StepEpochs = 10

// StepsHeader is the header row of steps.csv.
var StepsHeader = []string{"step", "epoch", "epoch_step", "epoch_steps", "loss", "lr"}

// StepRecord is one optimizer step, one row of steps.csv: the training
// loss of its batch and the learning rate it used.
type StepRecord struct {
	Step       int64 // optimizer steps since the start of training, this one included
	Epoch      int   // 1-based
	EpochStep  int   // 1-based step within the epoch
	EpochSteps int   // steps in the epoch
	Loss, LR   float64
}

// WriteSteps writes the steps.csv form of records.
func WriteSteps(w io.Writer, recs []StepRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(StepsHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, r := range recs {
		row := []string{strconv.FormatInt(r.Step, 10), strconv.Itoa(r.Epoch), strconv.Itoa(r.EpochStep), strconv.Itoa(r.EpochSteps), f(r.Loss), f(r.LR)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadSteps reads a run's steps.csv.
func ReadSteps(path string) ([]StepRecord, error) {
	f, err := regularfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = len(StepsHeader)
	if _, err := cr.Read(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []StepRecord
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var r StepRecord
		var errs [6]error
		r.Step, errs[0] = strconv.ParseInt(rec[0], 10, 64)
		r.Epoch, errs[1] = strconv.Atoi(rec[1])
		r.EpochStep, errs[2] = strconv.Atoi(rec[2])
		r.EpochSteps, errs[3] = strconv.Atoi(rec[3])
		r.Loss, errs[4] = strconv.ParseFloat(rec[4], 64)
		r.LR, errs[5] = strconv.ParseFloat(rec[5], 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, line, err)
		}
		out = append(out, r)
	}
}

// PlotSteps converts step records for plot.Curves: step s of e's n steps
// is at e-1+s/n epochs.
func PlotSteps(recs []StepRecord) []plot.Step {
	out := make([]plot.Step, 0, len(recs))
	for _, r := range recs {
		if r.EpochSteps <= 0 {
			continue
		}
		out = append(out, plot.Step{X: float64(r.Epoch-1) + float64(r.EpochStep)/float64(r.EpochSteps), Loss: r.Loss, LR: r.LR})
	}
	return out
}

// CurvesTitle is the title of a run's curves.png: the run, its config and
// its best epoch with the metric that chose it.
func CurvesTitle(run, config string, bestEpoch int, metric string, value float64) string {
	best := "no best epoch yet"
	if bestEpoch > 0 {
		best = fmt.Sprintf("best epoch %d (%s %.4f)", bestEpoch, metric, value)
	}
	return fmt.Sprintf("run %s · config %s · %s", run, config, best)
}
