package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/runs"
)

// runsOptions are the flags of "lepton runs".
type runsOptions struct {
	Dir     string
	Output  string
	Sort    string
	Reverse bool
	Columns []string
}

func newRunsCmd(s *streams, runF func(*runsOptions) error) *cobra.Command {
	opts := &runsOptions{}
	cmd := &cobra.Command{
		Use:   "runs [DIR]",
		Short: "List the training runs under a directory",
		Long: `List the training runs directly under DIR (default runs/): name, config,
data set (its kind; for a folder "folder:<name>"), epochs, best validation
accuracy, test accuracy, training minutes and status.

Status comes from the run's report.json ("finished", "interrupted",
"failed", "diverged": stopped at a NaN or infinite loss); a run without
report.json is "running" while a process holds the lock on its .lock file,
else "incomplete". A run whose files
cannot be parsed is listed as "unreadable" with a warning on stderr.
Unknown values print as "-" (text), null (JSON) or an empty cell (CSV).

--columns adds a column per config key (train.optimizer.lr,model.hidden),
read from each run's config.yaml, after the config column ("params" in
JSON), to tell runs apart by their hyperparameters; a sweep's trials are
the runs under DIR/trials.

--sort takes any column name as printed in the text header, including the
--columns keys; unknown values sort last either way. Output is plain text without colour (lepton never
colours its output, so NO_COLOR needs no handling).`,
		Example: `  lepton runs
  lepton runs --sort test_acc --reverse
  lepton runs experiments/ --output json | jq -r '.[] | select(.status == "finished") | .dir'
  lepton runs --output csv > runs.csv
  lepton runs sweeps/runs/lr-hidden/trials --columns train.optimizer.lr,model.hidden --sort test_acc --reverse
  lepton runs experiments/ --sort test_acc --reverse --output markdown > docs/results-table.md`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.MaximumNArgs(1)(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "runs"
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			if !slices.Contains(runs.Formats, opts.Output) {
				return usageError{fmt.Errorf("--output %q: want one of %s", opts.Output, strings.Join(runs.Formats, ", "))}
			}
			known := config.Default()
			for _, k := range opts.Columns {
				if _, ok := known.Get(k); !ok {
					return usageError{fmt.Errorf("--columns %q: not a config key (lepton config keys lists them)", k)}
				}
			}
			if sortable := append(slices.Clone(runs.Columns), opts.Columns...); !slices.Contains(sortable, opts.Sort) {
				return usageError{fmt.Errorf("--sort %q: want one of %s", opts.Sort, strings.Join(sortable, ", "))}
			}
			if runF != nil {
				return runF(opts)
			}
			list, warnings, err := runs.List(opts.Dir)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintf(s.Err, "lepton: warning: %v\n", w)
			}
			runs.LoadParams(list, opts.Columns)
			if err := runs.Sort(list, opts.Sort, opts.Reverse); err != nil {
				return usageError{err}
			}
			return runs.WriteColumns(s.Out, list, opts.Output, opts.Columns)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Output, "output", "text", "output `format`: text, json, csv or markdown")
	f.StringVar(&opts.Sort, "sort", "name", "sort by `column`: "+strings.Join(runs.Columns, ", "))
	f.BoolVar(&opts.Reverse, "reverse", false, "reverse the sort order")
	f.StringSliceVar(&opts.Columns, "columns", nil, "add a column per config `key` (comma-separated), e.g. train.optimizer.lr,model.hidden")
	return cmd
}
