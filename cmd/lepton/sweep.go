package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/sweep"
)

// sweepOptions are the flags of "lepton sweep".
type sweepOptions struct {
	File     string
	Out      string
	Executor string
	Parallel int
	EmitOnly bool
	Image    string
	Data     string
}

func newSweepCmd(s *streams, runF func(*sweepOptions) error) *cobra.Command {
	opts := &sweepOptions{}
	cmd := &cobra.Command{
		Use:   "sweep SWEEP.yaml --out DIR",
		Short: "Train a grid or random sample of configs, locally or as a Slurm job array",
		Long: `Run a hyperparameter sweep: every trial of SWEEP.yaml is a normal lepton run
in DIR/trials/NNN/ (config.yaml, checkpoints, metrics.csv, report.json).

The sweep file names the base config, the keys fixed for every trial (set),
the method (grid: every combination of the values; random: trials draws from
seed), the swept parameters (dotted config keys with values: [...] or a
range {min, max, log, int}), the metric (val_acc, val_loss, test_acc) and its
goal (maximize, minimize). Every trial's config is resolved and validated
before anything starts: one bad trial refuses the sweep, naming it and the
key.

--executor local (the default) trains at most --parallel trials at once on
this machine, sharing the cores among them, with a line on stderr per trial
event; the ranked results go to stdout and DIR/sweep.png. Ctrl-C stops the
trials with resumable checkpoints; the same command again skips finished
trials and resumes the others.

--executor slurm writes DIR/sweep.sbatch, a job array with one task per
trial, and submits it with sbatch (--emit-only: write it only, to read or
submit by hand). Tasks that are pre-empted, requeued or reach their time
limit save a checkpoint and resume when Slurm runs them again.

--executor kubernetes --emit-only writes DIR/sweep-job.yaml, an Indexed Job
for kubectl apply (--image names an image holding the lepton binary).`,
		Example: `  lepton sweep sweeps/lr-hidden.yaml --out sweeps/runs/lr-hidden --parallel 2
  lepton sweep sweeps/lr-hidden.yaml --out /shared/sweeps/run1 --executor slurm --parallel 4
  lepton sweep status /shared/sweeps/run1
  lepton sweep results /shared/sweeps/run1 --output markdown
  lepton sweep sweeps/lr-hidden.yaml --out /data/sweeps/run1 --executor kubernetes --emit-only --image registry.example/lepton:1.0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("want one sweep file (lepton sweep SWEEP.yaml --out DIR), got %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			switch {
			case opts.Out == "":
				return usageError{errors.New("--out DIR is required: the sweep directory")}
			case !slices.Contains(sweep.Executors, opts.Executor):
				return usageError{fmt.Errorf("--executor %q: want one of %s", opts.Executor, strings.Join(sweep.Executors, ", "))}
			case opts.Parallel < 0:
				return usageError{fmt.Errorf("--parallel %d: want at least 1 (0: the default)", opts.Parallel)}
			case opts.EmitOnly && opts.Executor == "local":
				return usageError{errors.New("--emit-only writes a scheduler's files: use it with --executor slurm or kubernetes")}
			case opts.Executor == "kubernetes" && !opts.EmitOnly:
				return usageError{errors.New("--executor kubernetes writes the manifest for kubectl apply: add --emit-only")}
			case opts.Executor == "kubernetes" && opts.Image == "":
				return usageError{errors.New("--executor kubernetes needs --image (an image holding the lepton binary)")}
			}
			if runF != nil {
				return runF(opts)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the lepton binary: %w", err)
			}
			var env []string
			if s.Environ != nil {
				env = s.Environ()
			}
			return sweep.Run(cmd.Context(), sweep.Options{
				File: opts.File, Out: opts.Out, Executor: opts.Executor, Parallel: opts.Parallel,
				EmitOnly: opts.EmitOnly, Image: opts.Image, Data: opts.Data,
				Lepton: exe, CPUs: runtime.NumCPU(), Environ: env, Stdout: s.Out, Stderr: s.Err,
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Out, "out", "o", "", "sweep `dir` (created; the same dir again resumes the sweep)")
	f.StringVar(&opts.Executor, "executor", "local", "where trials run: local, slurm or kubernetes")
	f.IntVar(&opts.Parallel, "parallel", 0, "most trials at once (default 1 locally, all on a scheduler)")
	f.BoolVar(&opts.EmitOnly, "emit-only", false, "write the sbatch script or manifest without submitting it")
	f.StringVar(&opts.Image, "image", "", "container `image` of the Kubernetes manifest")
	f.StringVar(&opts.Data, "data", "", "data `dir` passed to every trial (default: as lepton train resolves it)")
	cmd.AddCommand(newSweepStatusCmd(s), newSweepCancelCmd(s), newSweepResultsCmd(s))
	return cmd
}

func newSweepStatusCmd(s *streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status DIR",
		Short: "Show the state of each trial of a sweep",
		Long: `Show each trial's state from its run directory (finished, running,
interrupted, failed, pending) and, for a sweep submitted to Slurm, its array
task's state from squeue (and sacct when the cluster keeps accounting).`,
		Example: `  lepton sweep status sweeps/runs/lr-hidden
  lepton sweep status sweeps/runs/lr-hidden --output json | jq '.trials[] | select(.status != "finished")'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError{fmt.Errorf("--output %q: want text or json", output)}
			}
			rep, err := sweep.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			summary := fmt.Sprintf("sweep %s: %d trials", args[0], len(rep.Trials))
			for _, st := range []string{"finished", "running", "interrupted", "failed", "pending", "unreadable"} {
				if n := rep.Counts()[st]; n > 0 {
					summary += fmt.Sprintf(", %d %s", n, st)
				}
			}
			if rep.Job != "" {
				summary += ", Slurm job " + rep.Job
			}
			fmt.Fprintln(s.Err, summary)
			if rep.SlurmError != "" {
				fmt.Fprintf(s.Err, "lepton: warning: no Slurm states: %s\n", rep.SlurmError)
			}
			return rep.Write(s.Out, output)
		},
	}
	cmd.Flags().StringVar(&output, "output", "text", "output `format`: text or json")
	return cmd
}

func newSweepCancelCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel DIR",
		Short: "Cancel a sweep's Slurm job array (scancel)",
		Long: `Cancel the Slurm job array that "lepton sweep --executor slurm" submitted
for DIR. Running trials get SIGTERM and save resumable checkpoints; the
same "lepton sweep" command submits the unfinished trials again.`,
		Example: `  lepton sweep cancel /shared/sweeps/run1`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := sweep.Cancel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "cancelled Slurm job %s\n", id)
			return nil
		},
	}
}

func newSweepResultsCmd(s *streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "results DIR",
		Short: "Rank a sweep's trials by its metric",
		Long: `Rank the trials of the sweep in DIR by its metric and goal, one column per
swept parameter, then val_acc (best over the epochs), val_loss (lowest),
test_acc (of the final model) and epochs; trials without the metric yet
come last. JSON is a list of objects with rank, trial, status, each swept
key, val_acc, val_loss, test_acc, epochs and dir (null when unknown). Also
draws DIR/sweep.png: the metric against each swept parameter.`,
		Example: `  lepton sweep results sweeps/runs/lr-hidden
  lepton sweep results sweeps/runs/lr-hidden --output json | jq '.[0]'
  lepton sweep results sweeps/runs/lr-hidden --output csv > results.csv`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(sweep.Formats, output) {
				return usageError{fmt.Errorf("--output %q: want one of %s", output, strings.Join(sweep.Formats, ", "))}
			}
			f, results, err := sweep.Results(args[0])
			if err != nil {
				return err
			}
			if path, err := sweep.Plot(args[0], f, results); err == nil {
				fmt.Fprintf(s.Err, "figure: %s\n", path)
			} else if !errors.Is(err, plot.ErrNoData) {
				return err
			}
			return sweep.WriteResults(s.Out, f.Keys(), results, output)
		},
	}
	cmd.Flags().StringVar(&output, "output", "text", "output `format`: text, json, csv or markdown")
	return cmd
}
