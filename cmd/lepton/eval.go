package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/evaluate"
)

// evalOptions are the flags of "lepton eval".
type evalOptions struct {
	Checkpoint string
	Runs       string
	Data       string
	Output     string
	TopK       int
	Images     string
	Plot       string
}

func newEvalCmd(s *streams, runF func(*evalOptions) error) *cobra.Command {
	opts := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval [--checkpoint FILE|RUN_DIR] [--images DIR]",
		Short: "Measure a checkpoint on its data set's test set or a folder of images",
		Long: `Measure a checkpoint on the test set of the data set it was trained on:
accuracy, top-k accuracy, per-class precision, recall, F1 and support, macro
and weighted averages, and the confusion matrix (rows: true class, columns:
predicted).

The checkpoint records its data set (kind, location, and for folders the
test share and seed); --data DIR reads the test set of that kind from DIR
instead. When the recorded location does not exist (or none is recorded,
format 1), the kind's usual place is used (LEPTON_DATA_DIR or the cache;
folders have none). Images are brought to the model's size and channels as
training brought them. A data set whose class names differ from the
checkpoint's is refused (exit 3), naming both lists.

--images DIR measures it on your own labelled images instead, laid out as
DIR/<class name>/<image files>: each folder must be named after one of the
checkpoint's classes (hidden folders are skipped), is searched recursively
for image files, and its images are converted to the model's input size and
channels like "lepton predict" does. An unknown folder name is an error.

--plot FILE.png also draws the confusion matrix as a heatmap (PNG): class
names on both axes, counts in the cells, shaded by the share of the row,
a colour bar, and the accuracy in the title. The metrics are printed first,
so a figure that cannot be written loses nothing else.

` + checkpointHelp,
		Example: `  lepton eval --checkpoint runs/mlp-20261126-120000/checkpoints/best.safetensors
  lepton eval --checkpoint run/checkpoints/best.safetensors --output json | jq .accuracy
  lepton eval --checkpoint best.safetensors --output csv > per-class.csv
  lepton eval --checkpoint best.safetensors --images photos/ --plot confusion.png
  lepton eval --checkpoint runs/mlp-20261126-120000   # the run's best checkpoint`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			if opts.Output != "" && !slices.Contains(evaluate.Formats, opts.Output) {
				return usageError{fmt.Errorf("--output %q: want one of %s", opts.Output, strings.Join(evaluate.Formats, ", "))}
			}
			if opts.Plot != "" && !strings.EqualFold(filepath.Ext(opts.Plot), ".png") {
				return usageError{fmt.Errorf("--plot %s: only PNG is written (want a .png file)", opts.Plot)}
			}
			if opts.TopK < 1 {
				return usageError{fmt.Errorf("--top-k %d: want at least 1", opts.TopK)}
			}
			m, path, err := openCheckpoint(s, checkpointSource{Flag: opts.Checkpoint, Runs: opts.Runs})
			if err != nil {
				return err
			}
			defer m.Close()
			dataDir := "" // the checkpoint's data set
			if opts.Data != "" {
				dataDir = data.ResolveLocation(m.Data.Dataset, opts.Data, "", s.Getenv)
			}
			_, err = evaluate.Run(cmd.Context(), evaluate.Options{
				Model:      m,
				Checkpoint: path,
				Data: evaluate.DataOptions{
					Dir:     dataDir,
					Default: func(kind string) string { return data.ResolveLocation(kind, "", "", s.Getenv) },
					Cache:   data.CacheRoot(s.Getenv),
				},
				Images: opts.Images,
				Plot:   opts.Plot,
				Output: opts.Output,
				TopK:   defaultTopK(cmd, opts.TopK),
				Stdout: s.Out,
				Stderr: s.Err,
			})
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Checkpoint, "checkpoint", "", checkpointUsage)
	f.StringVar(&opts.Runs, "runs", "runs", "`dir` searched for the newest finished run")
	f.StringVar(&opts.Data, "data", "", "test set location `dir` (default: the checkpoint's data set)")
	f.StringVar(&opts.Output, "output", "text", "output `format`: text, json or csv")
	f.IntVar(&opts.TopK, "top-k", 3, "k of the top-k accuracy (at least 1; more than the model has classes are capped)")
	f.StringVar(&opts.Images, "images", "", "measure on `dir`/<class name>/<images> instead of the test set")
	f.StringVar(&opts.Plot, "plot", "", "also write the confusion matrix heatmap to `file` (PNG)")
	return cmd
}
