package sweep

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
)

// TrialStatus is one trial's state in "lepton sweep status".
type TrialStatus struct {
	Trial  int    `json:"trial"`
	Status string `json:"status"`          // from the run directory
	Slurm  string `json:"slurm,omitempty"` // the array task's Slurm state, when known
	Epochs int    `json:"epochs"`
	// Metric is the sweep's metric so far, nil when unknown.
	Metric *float64 `json:"metric"`
	Dir    string   `json:"dir"`
}

// Report is a sweep's state.
type Report struct {
	Dir    string        `json:"dir"`
	Metric string        `json:"metric"`
	Job    string        `json:"slurm_job,omitempty"` // the Slurm job id, when submitted
	Trials []TrialStatus `json:"trials"`
	// SlurmError says why the Slurm states are missing, when they are.
	SlurmError string `json:"slurm_error,omitempty"`
}

// Status reads the state of each trial of the sweep in dir from its run
// directory and, when the sweep was submitted to Slurm and squeue is
// installed, the state of its array task (squeue, and sacct when the
// cluster keeps accounting).
func Status(ctx context.Context, dir string) (*Report, error) {
	f, results, err := Results(dir)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(results, func(a, b Result) int { return cmp.Compare(a.Trial, b.Trial) })
	rep := &Report{Dir: dir, Metric: f.Metric}
	var states map[int]string
	if id, err := JobID(dir); err == nil {
		rep.Job = id
		if states, err = Queue(ctx, id); err != nil {
			rep.SlurmError = err.Error()
		}
	}
	for _, r := range results {
		rep.Trials = append(rep.Trials, TrialStatus{
			Trial: r.Trial, Status: r.Status, Slurm: states[r.Trial], Epochs: r.Epochs, Metric: r.Metric(f.Metric), Dir: r.Dir,
		})
	}
	return rep, nil
}

// Counts tallies the trials by status.
func (r *Report) Counts() map[string]int {
	n := map[string]int{}
	for _, t := range r.Trials {
		n[t.Status]++
	}
	return n
}

// Write writes the report as text (a summary line and a table) or json.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return fmt.Errorf("encode status: %w", err)
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case "", "text":
	default:
		return errors.New("--output " + strconv.Quote(format) + ": want text or json")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "trial\tstatus\tslurm\tepochs\t%s\tdir\n", r.Metric)
	for _, t := range r.Trials {
		fmt.Fprintf(tw, "%03d\t%s\t%s\t%d\t%s\t%s\n", t.Trial, t.Status, cmp.Or(t.Slurm, "-"), t.Epochs, fmtMetric(t.Metric), t.Dir)
	}
	return tw.Flush()
}
