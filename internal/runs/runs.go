// Package runs reads training run directories for people: it summarizes
// one run (the logic behind "lepton report") and lists the runs under a
// directory as a table, JSON or CSV (the logic behind "lepton runs").
//
// A run directory holds config.yaml, metrics.csv (one row per epoch),
// checkpoints/ and, once training ended, report.json. A run whose
// report.json is missing is "incomplete", or "running" while a process
// holds the lock on its .lock file.
package runs

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// Run statuses. Finished, Interrupted, Failed and Diverged come from report.json's
// "status" field (a report without one is Finished); the others describe
// a run directory without report.json.
const (
	Finished    = "finished"
	Interrupted = "interrupted"
	Failed      = "failed"
	Diverged    = "diverged"   // training stopped at a NaN or infinite loss, gradient or weight
	Running     = "running"    // no report.json, and a process holds the run's lock
	Incomplete  = "incomplete" // no report.json, and no live training process
	Unreadable  = "unreadable" // report.json or metrics.csv cannot be parsed
)

// Columns are the columns of the run table, in order; each is a valid
// --sort key.
var Columns = []string{"name", "config", "data", "epochs", "best_val_acc", "test_acc", "minutes", "status"}

// Formats lists the output formats of Write.
var Formats = []string{"text", "json", "csv", "markdown"}

// Run summarizes one run directory. Pointer fields are nil when unknown
// (null in JSON, "-" in text, empty in CSV).
type Run struct {
	Name   string `json:"name"`   // the directory's base name
	Config string `json:"config"` // the config's name
	// Data is the data set trained on: its data.dataset kind, and for a
	// folder its directory's name ("folder:photos"); empty when unknown.
	Data       string   `json:"data"`
	Epochs     int      `json:"epochs"` // epochs completed
	BestEpoch  int      `json:"best_epoch,omitempty"`
	BestValAcc *float64 `json:"best_val_acc"`
	TestAcc    *float64 `json:"test_acc"` // of the best checkpoint
	Minutes    *float64 `json:"minutes"`  // training time
	Status     string   `json:"status"`
	Dir        string   `json:"dir"`

	// History is metrics.csv, oldest epoch first.
	History []train.EpochMetrics `json:"-"`
	// Report is report.json, nil when the run has none.
	Report *report.Report `json:"-"`

	// Params holds the config keys loaded by LoadParams (hyperparameter
	// columns), as JSON values; ParamTexts the same in YAML flow syntax.
	// A key missing from the run's config.yaml is absent.
	Params     map[string]any    `json:"params,omitempty"`
	ParamTexts map[string]string `json:"-"`
}

// IsRun reports whether dir looks like a run directory: it holds a
// config.yaml, metrics.csv or report.json.
func IsRun(dir string) bool {
	for _, f := range []string{rundir.ConfigFile, rundir.MetricsFile, rundir.ReportFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// Read summarizes the run in dir. A report.json or metrics.csv that cannot
// be parsed gives a Run with status Unreadable (and what could be read)
// together with the error; a directory that is not a run is an error.
func Read(dir string) (*Run, error) {
	if !IsRun(dir) {
		return nil, fmt.Errorf("%s is not a run directory (no %s, %s or %s)", dir, rundir.ConfigFile, rundir.MetricsFile, rundir.ReportFile)
	}
	r := &Run{Name: filepath.Base(filepath.Clean(dir)), Dir: dir}
	var problems []error

	hist, err := train.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		problems = append(problems, err)
	default:
		r.History = hist
	}
	rep, err := report.Read(report.Path(dir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		problems = append(problems, err)
	default:
		r.Report = rep
	}

	cfg := readConfig(filepath.Join(dir, rundir.ConfigFile))
	r.Config, r.Data = cfg.Name, cfg.dataSet()
	if len(r.History) > 0 {
		last := r.History[len(r.History)-1]
		r.Epochs = last.Epoch
		best := r.History[0]
		secs := 0.0
		for _, e := range r.History {
			if e.ValAcc > best.ValAcc || math.IsNaN(best.ValAcc) {
				best = e
			}
			secs += e.Seconds
		}
		if !math.IsNaN(best.ValAcc) {
			r.BestEpoch, r.BestValAcc = best.Epoch, ptr(best.ValAcc)
		}
		r.Minutes = ptr(secs / 60)
	}
	if rep := r.Report; rep != nil {
		if rep.Name != "" {
			r.Config = rep.Name
		}
		if d := rep.Data; d != nil && d.Kind != "" {
			r.Data = dataSetName(d.Kind, d.Location)
		}
		r.Epochs = rep.Epochs
		if rep.BestEpoch > 0 {
			r.BestEpoch, r.BestValAcc = rep.BestEpoch, ptr(rep.BestValAcc)
		}
		if rep.Test.Count > 0 {
			r.TestAcc = ptr(rep.Test.Accuracy)
		}
		if rep.TrainSeconds > 0 {
			r.Minutes = ptr(rep.TrainSeconds / 60)
		}
		r.Status = cmp.Or(rep.Status, Finished)
	} else if _, alive := rundir.Holder(dir); alive {
		r.Status = Running
	} else {
		r.Status = Incomplete
	}
	if len(problems) > 0 {
		r.Status = Unreadable
		return r, errors.Join(problems...)
	}
	return r, nil
}

// ptr returns a pointer to v, or nil (unknown: "-", null, empty) when v is
// NaN or infinite, which no column of a run table can mean.
func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// List summarizes every run directly under parent, sorted by name. Runs
// whose files cannot be parsed are listed as Unreadable and their errors
// returned in warnings; err is set only when parent cannot be read.
func List(parent string) (runs []Run, warnings []error, err error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("no runs: %w (train one with \"lepton train\")", err)
		}
		return nil, nil, fmt.Errorf("list runs: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // hidden: a run directory being created (atomicfile.Mkdir), or not lepton's
		}
		dir := filepath.Join(parent, e.Name())
		if info, err := os.Stat(dir); err != nil || !info.IsDir() || !IsRun(dir) {
			continue
		}
		r, err := Read(dir)
		if err != nil {
			warnings = append(warnings, err)
		}
		if r != nil {
			runs = append(runs, *r)
		}
	}
	return runs, warnings, nil
}

// Sort orders runs by column (one of Columns), ascending unless reverse;
// unknown values (runs without a test accuracy, ...) always come last and
// ties are broken by name.
func Sort(runs []Run, column string, reverse bool) error {
	key, ok := sortKeys[column]
	if !ok && strings.Contains(column, ".") {
		key, ok = paramSortKey(column), true
	}
	if !ok {
		return fmt.Errorf("--sort %q: want one of %s", column, strings.Join(Columns, ", "))
	}
	slices.SortStableFunc(runs, func(a, b Run) int {
		ka, kb := key(a), key(b)
		if c := cmpKeys(ka, kb, reverse); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return nil
}

// sortKey is a column's value: a string, a number, or unknown (nil).
type sortKey any

var sortKeys = map[string]func(Run) sortKey{
	"name":         func(r Run) sortKey { return r.Name },
	"config":       func(r Run) sortKey { return r.Config },
	"data":         func(r Run) sortKey { return r.Data },
	"epochs":       func(r Run) sortKey { return float64(r.Epochs) },
	"best_val_acc": func(r Run) sortKey { return deref(r.BestValAcc) },
	"test_acc":     func(r Run) sortKey { return deref(r.TestAcc) },
	"minutes":      func(r Run) sortKey { return deref(r.Minutes) },
	"status":       func(r Run) sortKey { return r.Status },
}

func deref(p *float64) sortKey {
	if p == nil || math.IsNaN(*p) {
		return nil
	}
	return *p
}

func cmpKeys(a, b sortKey, reverse bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	var c int
	switch av := a.(type) {
	case string:
		bs, ok := b.(string)
		if !ok { // a param column mixing numbers and text: numbers first
			return 1
		}
		c = strings.Compare(av, bs)
	case float64:
		bf, ok := b.(float64)
		if !ok {
			return -1
		}
		c = cmp.Compare(av, bf)
	}
	if reverse {
		c = -c
	}
	return c
}

// Write writes runs as text (an aligned table with the Columns as header),
// json (an array of objects, also holding dir and best_epoch) or csv (the
// Columns then dir).
func Write(w io.Writer, runs []Run, format string) error {
	return WriteColumns(w, runs, format, nil)
}

// WriteColumns is Write with a column per config key of params (loaded by
// LoadParams) after the config column; in JSON they are the "params"
// object.
func WriteColumns(w io.Writer, runs []Run, format string, params []string) error {
	var err error
	switch format {
	case "", "text":
		err = writeText(w, runs, params)
	case "json":
		if runs == nil {
			runs = []Run{}
		}
		var b []byte
		b, err = json.MarshalIndent(runs, "", "  ")
		if err == nil {
			_, err = w.Write(append(b, '\n'))
		}
	case "csv":
		err = writeCSV(w, runs, params)
	case "markdown":
		err = writeMarkdown(w, runs, params)
	default:
		return fmt.Errorf("--output %q: want one of %s", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write runs: %w", err)
	}
	return nil
}

func writeText(w io.Writer, runs []Run, params []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header(params), "\t"))
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s%s\t%d\t%s\t%s\t%s\t%s\n", r.Name, cmp.Or(r.Config, "-"), paramCells(r, params, "\t"), cmp.Or(r.Data, "-"), r.Epochs,
			num(r.BestValAcc, 4), num(r.TestAcc, 4), num(r.Minutes, 1), r.Status)
	}
	return tw.Flush()
}

// writeMarkdown writes the table as GitHub Markdown (for docs/results.md).
func writeMarkdown(w io.Writer, runs []Run, params []string) error {
	head := header(params)
	if _, err := fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head))); err != nil {
		return err
	}
	for _, r := range runs {
		if _, err := fmt.Fprintf(w, "| %s | %s | %s%s | %d | %s | %s | %s | %s |\n", r.Name, cmp.Or(r.Config, "-"), paramCells(r, params, " | "), cmp.Or(r.Data, "-"), r.Epochs,
			num(r.BestValAcc, 4), num(r.TestAcc, 4), num(r.Minutes, 1), r.Status); err != nil {
			return err
		}
	}
	return nil
}

func num(p *float64, prec int) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', prec, 64)
}

func writeCSV(w io.Writer, runs []Run, params []string) error {
	cw := csv.NewWriter(w)
	f := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	if err := cw.Write(append(header(params), "dir")); err != nil {
		return err
	}
	for _, r := range runs {
		row := []string{r.Name, r.Config}
		for _, k := range params {
			row = append(row, r.ParamTexts[k])
		}
		row = append(row, r.Data, strconv.Itoa(r.Epochs), f(r.BestValAcc), f(r.TestAcc), f(r.Minutes), r.Status, r.Dir)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
