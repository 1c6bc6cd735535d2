package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/runs"
)

// reportOptions are the flags of "lepton report".
type reportOptions struct {
	Dir    string
	Output string
}

func newReportCmd(s *streams, runF func(*reportOptions) error) *cobra.Command {
	opts := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Summarize a training run and redraw its figures",
		Long: `Summarize a training run: config name, status, epochs, best validation
accuracy (and its epoch), test accuracy of the best checkpoint, training time.

It also (re)draws the run's figures inside RUN_DIR, atomically:
  curves.png     loss, accuracy and learning rate per epoch (from metrics.csv)
  confusion.png  the best checkpoint's test confusion matrix (from report.json;
                 only once the run has one)
Works on unfinished runs too (curves only). When the figures cannot be
written (a read-only run directory), the summary is still printed, the
reason goes to stderr and the exit status is 0. The summary goes to stdout as
"key: value" lines, or one JSON object with --output json; figures are
images, and the text output has no colour.`,
		Example: `  lepton report runs/mlp-20261126-120000
  lepton report "$(lepton train --config configs/mlp.yaml)"
  lepton report runs/mlp-20261126-120000 --output json | jq .test_acc`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = args[0]
			if opts.Output != "text" && opts.Output != "json" {
				return usageError{fmt.Errorf("--output %q: want text or json", opts.Output)}
			}
			if runF != nil {
				return runF(opts)
			}
			sum, err := runs.Summarize(opts.Dir)
			if err != nil && !errors.Is(err, runs.ErrFigures) {
				return err
			}
			write := sum.WriteText
			if opts.Output == "json" {
				write = sum.WriteJSON
			}
			if werr := write(s.Out); werr != nil {
				return werr
			}
			if err != nil {
				// The summary is what was asked for; the figures are extras.
				fmt.Fprintf(s.Err, "lepton: %s\n", sum.FiguresError)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Output, "output", "text", "output `format`: text or json")
	return cmd
}
