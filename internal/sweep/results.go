package sweep

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/regularfile"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/runs"
)

// Trial states, besides the run statuses of internal/runs (finished,
// interrupted, failed, running, unreadable).
const (
	// Pending: the trial has not started (only its config.yaml).
	Pending = "pending"
)

// Formats lists the output formats of WriteResults.
var Formats = []string{"text", "json", "csv", "markdown"}

// Result is one trial's outcome.
type Result struct {
	// Trial is the trial's index; its run directory is Dir.
	Trial int
	Dir   string
	// Status is finished, interrupted (resumable), failed, running,
	// pending or unreadable.
	Status string
	// Values are the swept keys' values as JSON takes them (numbers,
	// strings, lists), in the sweep's parameter order; nil when unknown.
	Values []any
	// Texts are the same values in YAML flow syntax ("-" when unknown).
	Texts []string
	// ValAcc is the best validation accuracy, ValLoss the lowest
	// validation loss over the epochs; TestAcc is the final model's test
	// accuracy (finished runs). nil when unknown.
	ValAcc, ValLoss, TestAcc *float64
	// Epochs is the number of epochs completed.
	Epochs int
	// Rank is the trial's place by the sweep's metric and goal, from 1;
	// 0 when it has no value of the metric yet.
	Rank int
}

// Metric returns the result's value of metric (val_acc, val_loss or
// test_acc), nil when unknown.
func (r Result) Metric(metric string) *float64 {
	switch metric {
	case "val_loss":
		return r.ValLoss
	case "test_acc":
		return r.TestAcc
	}
	return r.ValAcc
}

// Results reads the sweep in dir and each of its trials, ranked by the
// sweep's metric (best first; trials without a value last, by index).
func Results(dir string) (*File, []Result, error) {
	f, err := Open(dir)
	if err != nil {
		return nil, nil, err
	}
	idx, err := ListTrials(dir)
	if err != nil {
		return nil, nil, err
	}
	results := make([]Result, 0, len(idx))
	for _, i := range idx {
		r, _ := readTrial(TrialDir(dir, i), f.Keys())
		r.Trial = i
		results = append(results, r)
	}
	Rank(results, f.Metric, f.Goal)
	return f, results, nil
}

// readTrial reads the trial in run directory td: its status, metrics and
// the values of keys in its config.yaml. What cannot be read is left
// unknown, and the status says "unreadable".
func readTrial(td string, keys []string) (Result, error) {
	res := Result{Dir: td, Status: Pending, Values: make([]any, len(keys)), Texts: make([]string, len(keys))}
	for i := range res.Texts {
		res.Texts[i] = "-"
	}
	var problems []error
	if b, err := regularfile.ReadFile(filepath.Join(td, rundir.ConfigFile), config.MaxFileSize); err != nil {
		problems = append(problems, err)
	} else if cfg, err := config.Parse(b); err != nil {
		problems = append(problems, fmt.Errorf("%s: %w", td, err))
	} else {
		for i, k := range keys {
			text, ok := cfg.Get(k)
			if !ok {
				continue
			}
			res.Texts[i] = text
			var v any
			if yaml.Unmarshal([]byte(text), &v) == nil {
				res.Values[i] = v
			}
		}
	}
	run, err := runs.Read(td)
	if err != nil {
		problems = append(problems, err)
	}
	if run != nil {
		res.Status, res.Epochs = run.Status, run.Epochs
		res.ValAcc, res.TestAcc = run.BestValAcc, run.TestAcc
		for _, e := range run.History {
			if !math.IsNaN(e.ValLoss) && (res.ValLoss == nil || e.ValLoss < *res.ValLoss) {
				res.ValLoss = &e.ValLoss
			}
		}
		if res.Status == runs.Incomplete {
			res.Status = Pending
			if _, err := os.Stat(rundir.Last(td)); err == nil {
				res.Status = runs.Interrupted // killed without a report; resumable
			}
		}
	}
	if len(problems) > 0 {
		res.Status = runs.Unreadable
	}
	return res, errors.Join(problems...)
}

// Rank orders results by metric toward goal and numbers them; results
// without the metric come last, by trial.
func Rank(results []Result, metric, goal string) {
	slices.SortStableFunc(results, func(a, b Result) int {
		ma, mb := a.Metric(metric), b.Metric(metric)
		switch {
		case ma == nil && mb == nil:
			return cmp.Compare(a.Trial, b.Trial)
		case ma == nil:
			return 1
		case mb == nil:
			return -1
		}
		c := cmp.Compare(*ma, *mb)
		if goal == "maximize" {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.Trial, b.Trial))
	})
	rank := 0
	for i := range results {
		results[i].Rank = 0
		if results[i].Metric(metric) != nil {
			rank++
			results[i].Rank = rank
		}
	}
}

// WriteResults writes ranked results with one column per swept key (keys)
// as text (an aligned table), json (a list of objects with rank, trial,
// status, each swept key, val_acc, val_loss, test_acc, epochs and dir; null
// when unknown), csv or markdown.
func WriteResults(w io.Writer, keys []string, results []Result, format string) error {
	var err error
	switch format {
	case "", "text":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		writeTable(tw, keys, results, "", "\t", "")
		err = tw.Flush()
	case "markdown":
		head := append(append([]string{"rank", "trial", "status"}, keys...), "val_acc", "val_loss", "test_acc", "epochs")
		_, err = fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat(" --- |", len(head)))
		if err == nil {
			err = writeTable(w, nil, results, "| ", " | ", " |")
		}
	case "csv":
		err = writeResultsCSV(w, keys, results)
	case "json":
		err = writeResultsJSON(w, keys, results)
	default:
		return fmt.Errorf("--output %q: want one of %s", format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// writeTable writes a header (when keys is not nil) and one row per result,
// cells joined by sep between pre and post.
func writeTable(w io.Writer, keys []string, results []Result, pre, sep, post string) error {
	if keys != nil {
		head := append(append([]string{"rank", "trial", "status"}, keys...), "val_acc", "val_loss", "test_acc", "epochs")
		if _, err := fmt.Fprintln(w, pre+strings.Join(head, sep)+post); err != nil {
			return err
		}
	}
	for _, r := range results {
		row := append([]string{rankText(r.Rank), fmt.Sprintf("%03d", r.Trial), r.Status}, r.Texts...)
		row = append(row, fmtMetric(r.ValAcc), fmtMetric(r.ValLoss), fmtMetric(r.TestAcc), strconv.Itoa(r.Epochs))
		if pre != "" {
			for i := range row {
				row[i] = strings.ReplaceAll(row[i], "|", `\|`)
			}
		}
		if _, err := fmt.Fprintln(w, pre+strings.Join(row, sep)+post); err != nil {
			return err
		}
	}
	return nil
}

func rankText(rank int) string {
	if rank == 0 {
		return "-"
	}
	return strconv.Itoa(rank)
}

// fmtMetric shows a metric with 4 decimals, "-" when unknown.
func fmtMetric(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', 4, 64)
}

func writeResultsCSV(w io.Writer, keys []string, results []Result) error {
	cw := csv.NewWriter(w)
	exact := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	head := append(append([]string{"rank", "trial", "status"}, keys...), "val_acc", "val_loss", "test_acc", "epochs", "dir")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range results {
		row := []string{"", strconv.Itoa(r.Trial), r.Status}
		if r.Rank > 0 {
			row[0] = strconv.Itoa(r.Rank)
		}
		for j, t := range r.Texts {
			if r.Values[j] == nil && t == "-" {
				t = ""
			}
			row = append(row, t)
		}
		row = append(row, exact(r.ValAcc), exact(r.ValLoss), exact(r.TestAcc), strconv.Itoa(r.Epochs), r.Dir)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeResultsJSON writes the results as a JSON list of objects whose
// fields keep their order: rank, trial, status, the swept keys, metrics.
func writeResultsJSON(w io.Writer, keys []string, results []Result) error {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, r := range results {
		if i > 0 {
			b.WriteByte(',')
		}
		var rank any
		if r.Rank > 0 {
			rank = r.Rank
		}
		fields := []struct {
			k string
			v any
		}{{"rank", rank}, {"trial", r.Trial}, {"status", r.Status}}
		for j, k := range keys {
			fields = append(fields, struct {
				k string
				v any
			}{k, r.Values[j]})
		}
		fields = append(fields, []struct {
			k string
			v any
		}{{"val_acc", r.ValAcc}, {"val_loss", r.ValLoss}, {"test_acc", r.TestAcc}, {"epochs", r.Epochs}, {"dir", r.Dir}}...)
		b.WriteByte('{')
		for j, f := range fields {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(f.k)
			v, err := json.Marshal(f.v)
			if err != nil {
				return fmt.Errorf("trial %03d: %s: %w", r.Trial, f.k, err)
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}
