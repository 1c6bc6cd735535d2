package main

import (
	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/evaluate"
)

// evalOptions are the flags of "lepton eval".
type evalOptions struct {
	Checkpoint string
	Data       string
	Output     string
	TopK       int
}

func newEvalCmd(s *streams, runF func(*evalOptions) error) *cobra.Command {
	opts := &evalOptions{}
	cmd := &cobra.Command{
		Use:   "eval --checkpoint FILE",
		Short: "Measure a checkpoint on the CIFAR-10 test set",
		Long: `Measure a checkpoint on the 10,000 CIFAR-10 test images: accuracy, top-k
accuracy, per-class precision, recall, F1 and support, macro and weighted
averages, and the confusion matrix (rows: true class, columns: predicted).`,
		Example: `  lepton eval --checkpoint runs/mlp-20261126-120000/checkpoints/best.safetensors
  lepton eval --checkpoint run/checkpoints/best.safetensors --output json | jq .accuracy
  lepton eval --checkpoint best.safetensors --output csv > per-class.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Checkpoint == "" {
				return usageError{errRequired("--checkpoint")}
			}
			if runF != nil {
				return runF(opts)
			}
			_, err := evaluate.Run(cmd.Context(), evaluate.Options{
				Checkpoint: opts.Checkpoint,
				DataDir:    data.ResolveDir(opts.Data, "", s.Getenv),
				Output:     opts.Output,
				TopK:       opts.TopK,
				Stdout:     s.Out,
			})
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Checkpoint, "checkpoint", "", "checkpoint `file` (.safetensors)")
	f.StringVar(&opts.Data, "data", "", "CIFAR-10 data `dir` or cifar-10-binary.tar.gz")
	f.StringVar(&opts.Output, "output", "text", "output `format`: text, json or csv")
	f.IntVar(&opts.TopK, "top-k", 3, "k of the top-k accuracy")
	return cmd
}
