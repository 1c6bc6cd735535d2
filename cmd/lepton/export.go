package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/onnx"
)

// exportOptions are the flags of "lepton export".
type exportOptions struct {
	Checkpoint string
	Runs       string
	Format     string
	Fold       bool
	Out        string
}

func newExportCmd(s *streams, runF func(*exportOptions) error) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export [--checkpoint FILE] --format onnx OUT.onnx",
		Short: "Export a checkpoint to another format (ONNX)",
		Long: `Export a checkpoint's network as an ONNX model (IR version 8, opset 13),
written atomically to OUT.onnx.

Input "pixels", float32 [N,3072]: raw pixel values scaled to [0,1]
(byte/255), in CIFAR-10 planar order: the 32x32 red plane row by row, then
green, then blue. Sub and Div nodes apply lepton's per-channel
normalization, so no preprocessing beyond /255 is needed and the logits
match lepton's to float32 rounding. --fold-normalization folds it into the
first layer's weights instead (two nodes fewer; logits move by ~1e-5).
Outputs "probabilities" (Softmax, the last node) and "logits", float32
[N,classes]; the class names, in output order, are in the model's
metadata_props "classes" (JSON). Layers are Gemm nodes with [out,in]
weights named layers.<i>.weight/bias, hidden activations Relu, Tanh,
Sigmoid or LeakyRelu.

` + checkpointHelp,
		Example: `  lepton export --checkpoint runs/mlp-20261126-120000/checkpoints/best.safetensors --format onnx mlp.onnx
  lepton export --format onnx latest.onnx
  python3 -c "import onnx; onnx.checker.check_model(onnx.load('mlp.onnx'))"`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out = args[0]
			if opts.Format != "onnx" {
				return usageError{fmt.Errorf("--format %q: want onnx", opts.Format)}
			}
			if runF != nil {
				return runF(opts)
			}
			m, path, err := openCheckpoint(s, checkpointSource{Flag: opts.Checkpoint, Runs: opts.Runs})
			if err != nil {
				return err
			}
			defer m.Close()
			if err := onnx.Export(opts.Out, m, onnx.Options{ProducerVersion: version, Source: path, Fold: opts.Fold}); err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "lepton: wrote %s (ONNX opset %d: pixels [N,3072] -> probabilities, logits [N,%d])\n",
				opts.Out, onnx.Opset, len(m.Classes))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Checkpoint, "checkpoint", "", checkpointUsage)
	f.StringVar(&opts.Runs, "runs", "runs", "`dir` searched for the newest finished run")
	f.StringVar(&opts.Format, "format", "onnx", "export `format`: onnx")
	f.BoolVar(&opts.Fold, "fold-normalization", false, "fold the input normalization into the first layer")
	return cmd
}
