package runs

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// Summary is a run's summary as "lepton report" prints it, with the
// figures it drew.
type Summary struct {
	Run
	TestLoss  *float64 `json:"test_loss"`
	TestTopK  *float64 `json:"test_top_k_accuracy"`
	TopK      int      `json:"top_k,omitempty"`
	Curves    string   `json:"curves,omitempty"`    // path of curves.png, if drawn
	Confusion string   `json:"confusion,omitempty"` // path of confusion.png, if drawn
	// FiguresError says why some figures could not be redrawn (a
	// read-only run directory, say); empty when all were.
	FiguresError string `json:"figures_error,omitempty"`
}

// ErrFigures is wrapped by Summarize's error when the run was read but
// some of its figures could not be redrawn; the summary is then complete
// except for those figures.
var ErrFigures = errors.New("could not redraw the figures")

// Summarize reads the run in dir and redraws its figures there:
// curves.png from metrics.csv (when it has epochs) and confusion.png from
// report.json's test confusion matrix (when the run has one). Both are
// written atomically. When the run can be read but a figure cannot be
// written, Summarize returns the summary (without that figure, and with
// FiguresError set) together with an error wrapping ErrFigures.
func Summarize(dir string) (*Summary, error) {
	r, err := Read(dir)
	if err != nil {
		return nil, err
	}
	s := &Summary{Run: *r}
	var failed []error
	if len(r.History) > 0 {
		s.Curves = filepath.Join(dir, rundir.CurvesFile)
		steps, _ := train.ReadSteps(filepath.Join(dir, rundir.StepsFile)) // short runs only
		title := train.CurvesTitle(r.Name, cmp.Or(r.Config, "-"), r.BestEpoch, "val_acc", orNaN(r.BestValAcc))
		if err := plot.Curves(s.Curves, train.PlotHistory(r.History), plot.CurvesOptions{Title: title, Steps: train.PlotSteps(steps)}); err != nil {
			s.Curves, failed = "", append(failed, err)
		}
	}
	if rep := r.Report; rep != nil && rep.Test.Count > 0 {
		s.TestLoss, s.TestTopK, s.TopK = ptr(rep.TestLoss), ptr(rep.Test.TopKAccuracy), rep.Test.TopK
		names := make([]string, len(rep.Test.ConfusionMatrix))
		for i := range names {
			names[i] = fmt.Sprint(i)
			if i < len(rep.Test.Classes) {
				names[i] = rep.Test.Classes[i].Name
			}
		}
		if len(names) > 0 {
			s.Confusion = filepath.Join(dir, rundir.ConfusionFile)
			if err := plot.Confusion(s.Confusion, names, rep.Test.ConfusionMatrix); err != nil {
				s.Confusion, failed = "", append(failed, err)
			}
		}
	}
	if len(failed) > 0 {
		err := fmt.Errorf("%s: %w: %w", dir, ErrFigures, errors.Join(failed...))
		s.FiguresError = oneLine(err.Error())
		return s, err
	}
	return s, nil
}

// orNaN is *p, NaN when p is nil.
func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// oneLine joins the lines of a message with "; ".
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// WriteText writes the summary as aligned "key: value" lines.
func (s *Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	line := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	line("run", s.Dir)
	line("config", cmp.Or(s.Config, "-"))
	data := cmp.Or(s.Data, "-")
	if rep := s.Report; rep != nil && rep.Data != nil {
		d := rep.Data
		skipped := ""
		if n := len(d.Skipped); n > 0 {
			skipped = fmt.Sprintf(", %d skipped", n)
		}
		data = fmt.Sprintf("%s (%s, %d classes%s) %s", cmp.Or(s.Data, d.Kind), d.Geometry, len(d.Classes), skipped, d.Location)
	}
	line("data", data)
	line("status", s.Status)
	line("epochs", fmt.Sprint(s.Epochs))
	best := num(s.BestValAcc, 4)
	if s.BestValAcc != nil && s.BestEpoch > 0 {
		best += fmt.Sprintf(" (epoch %d)", s.BestEpoch)
	}
	line("best val acc", best)
	test := num(s.TestAcc, 4)
	if s.TestTopK != nil {
		test += fmt.Sprintf(" (top-%d %.4f, loss %.4f)", s.TopK, *s.TestTopK, *s.TestLoss)
	}
	line("test acc", test)
	t := "-"
	if s.Minutes != nil {
		t = fmt.Sprintf("%.1f min", *s.Minutes)
		if s.Epochs > 0 {
			t += fmt.Sprintf(" (%.1f s/epoch)", *s.Minutes*60/float64(s.Epochs))
		}
	}
	line("time", t)
	var figs []string
	for _, f := range []string{s.Curves, s.Confusion} {
		if f != "" {
			figs = append(figs, f)
		}
	}
	shown := cmp.Or(strings.Join(figs, " "), "-")
	if s.FiguresError != "" {
		shown += " (could not redraw the figures: see stderr)"
	}
	line("figures", shown)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// WriteJSON writes the summary as one indented JSON object.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
