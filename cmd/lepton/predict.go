package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/predict"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// predictOptions are the flags of "lepton predict".
type predictOptions struct {
	Checkpoint string
	Runs       string
	TopK       int
	Output     string
	Paths      []string
}

func newPredictCmd(s *streams, runF func(*predictOptions) error) *cobra.Command {
	opts := &predictOptions{}
	cmd := &cobra.Command{
		Use:   "predict [--checkpoint FILE] IMAGE...",
		Short: "Classify image files",
		Long: `Classify PNG, JPEG or GIF images of any size: each is converted to RGB,
resized to 32x32 and normalized like the training data. One line per image
with its top-k classes; "-" reads one image from stdin.

Without --checkpoint, lepton uses $LEPTON_CHECKPOINT, else the best
checkpoint of the newest finished run under --runs, and says which on stderr.
Files that cannot be read are reported on stderr, the others are still
classified, and the exit status is then 1.`,
		Example: `  lepton predict image.png
  lepton predict --checkpoint run/checkpoints/best.safetensors --top-k 5 *.jpg
  curl -s https://example.com/cat.jpg | lepton predict --output json -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("no images given")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			path, err := resolveCheckpoint(s, opts)
			if err != nil {
				return err
			}
			m, _, err := classifier.Load(path)
			if err != nil {
				return checkpointError{err}
			}
			defer m.Close()
			err = predict.Run(cmd.Context(), predict.Options{
				Model: m, Paths: opts.Paths, TopK: opts.TopK, Output: opts.Output,
				Stdin: s.In, Stdout: s.Out, Stderr: s.Err,
			})
			if errors.Is(err, predict.ErrSomeFailed) {
				return silentError{err} // each failed input was reported on its own line
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint `file` (default $LEPTON_CHECKPOINT, else the newest run's best)")
	f.StringVar(&opts.Runs, "runs", "runs", "`dir` searched for the newest finished run")
	f.IntVarP(&opts.TopK, "top-k", "k", 3, "classes shown per image")
	f.StringVar(&opts.Output, "output", "text", "output `format`: text or json (JSON Lines)")
	return cmd
}

func resolveCheckpoint(s *streams, opts *predictOptions) (string, error) {
	if opts.Checkpoint != "" {
		return opts.Checkpoint, nil
	}
	if env := s.Getenv("LEPTON_CHECKPOINT"); env != "" {
		fmt.Fprintf(s.Err, "lepton: using checkpoint %s (LEPTON_CHECKPOINT)\n", env)
		return env, nil
	}
	dir, err := rundir.Latest(opts.Runs)
	if err != nil {
		return "", checkpointError{fmt.Errorf("no --checkpoint given and %w", err)}
	}
	path := rundir.Best(dir)
	fmt.Fprintf(s.Err, "lepton: using checkpoint %s (newest finished run)\n", path)
	return path, nil
}
