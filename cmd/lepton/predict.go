package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/predict"
)

// predictOptions are the flags of "lepton predict".
type predictOptions struct {
	Checkpoint string
	Runs       string
	TopK       int
	Output     string
	FilesFrom  string
	Logits     bool
	Workers    int
	Paths      []string
}

func newPredictCmd(s *streams, runF func(*predictOptions) error) *cobra.Command {
	opts := &predictOptions{}
	cmd := &cobra.Command{
		Use:   "predict [--checkpoint FILE] IMAGE|DIR...",
		Short: "Classify image files",
		Long: `Classify PNG, JPEG, GIF, BMP or WebP images of any size: each is converted
to the model's input as its checkpoint describes it — resized to its size
with the resampler of the folder data sets (fitted as its training data
was: stretch, crop or pad), turned grey or RGB to match its channels — and
normalized like the training data. One line per image with its top-k
classes; "-" reads one image from stdin. No training config is needed.

A directory is searched recursively for image files (by extension, any case), classified in sorted path order. --files-from FILE reads more
paths (files or directories), one a line, from FILE or, with "-", from
stdin. Images are decoded in parallel (--workers, default: all cores) and
classified in batches; the output keeps the input order.

Output formats (--output):
  text  path, then "class probability" per top-k class, tab-separated
  json  JSON Lines: {"path","top":[{"class","probability"}...]}, plus
        "logits" (raw scores in class order) with --logits, or "error"
  csv   header path,class,probability,class_2,probability_2,... up to the
        top-k, then logit_<class> columns with --logits, then error

` + checkpointHelp + `
Files that cannot be read are reported on stderr (and as "error" in JSON and
CSV), the others are still classified, and the exit status is then 1.`,
		Example: `  lepton predict image.png
  lepton predict --checkpoint run/checkpoints/best.safetensors --top-k 5 *.jpg
  curl -s https://example.com/cat.jpg | lepton predict --output json -
  lepton predict --output csv photos/ > predictions.csv
  find /data -name '*.png' | lepton predict --files-from - --output json --logits`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && opts.FilesFrom == "" {
				return usageError{fmt.Errorf("no images given (arguments or --files-from)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			popts := predict.Options{
				Paths: opts.Paths, FilesFrom: opts.FilesFrom, TopK: opts.TopK, Output: opts.Output,
				Logits: opts.Logits, Workers: opts.Workers,
				Stdin: s.In, Stdout: s.Out, Stderr: s.Err,
			}
			if err := popts.Check(); err != nil {
				return usageError{err}
			}
			if opts.TopK < 1 {
				return usageError{fmt.Errorf("--top-k %d: want at least 1", opts.TopK)}
			}
			m, _, err := openCheckpoint(s, checkpointSource{Flag: opts.Checkpoint, Runs: opts.Runs})
			if err != nil {
				return err
			}
			defer m.Close()
			popts.Model = m
			popts.TopK = defaultTopK(cmd, opts.TopK)
			err = predict.Run(cmd.Context(), popts)
			if errors.Is(err, predict.ErrSomeFailed) {
				return silentError{err} // each failed input was reported on its own line
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Checkpoint, "checkpoint", "", checkpointUsage)
	f.StringVar(&opts.Runs, "runs", "runs", "`dir` searched for the newest finished run")
	f.IntVarP(&opts.TopK, "top-k", "k", 3, "classes shown per image (at least 1; more than the model has are capped)")
	f.StringVar(&opts.Output, "output", "text", "output `format`: text, json (JSON Lines) or csv")
	f.StringVar(&opts.FilesFrom, "files-from", "", "read more image paths, one a line, from `file` (\"-\": stdin)")
	f.BoolVar(&opts.Logits, "logits", false, "add the raw logits (json and csv output)")
	f.IntVar(&opts.Workers, "workers", 0, "image decoding goroutines (0: one per core)")
	return cmd
}

// defaultTopK passes --top-k on when the user gave it, and 0 (3, or all
// classes of a model with fewer, without a note) when it is the default.
func defaultTopK(cmd *cobra.Command, k int) int {
	if cmd.Flags().Changed("top-k") {
		return k
	}
	return 0
}
