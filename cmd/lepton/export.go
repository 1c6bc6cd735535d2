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

Input "pixels", float32 [N,C*H*W]: raw pixel values scaled to [0,1]
(byte/255) of an image of the model's size and channels (from the
checkpoint's model description), in planar CHW order: the channel planes
one after the other (red, green, blue; or one grey plane), each H rows of
W values. A CIFAR-10 model takes [N,3072]: the 32x32 red plane row by row,
then green, then blue; a 28x28 grey model [N,784]. Sub and Div nodes apply
lepton's per-channel normalization and batch normalization is computed as
lepton computes it, so no preprocessing beyond /255 is needed and the
outputs match lepton's to float32 rounding. --fold-normalization folds both
into the Gemm weights instead (fewer nodes; logits move by ~1e-5).
Outputs "probabilities" (Softmax, the last node) and "logits", float32
[N,classes]. The model's metadata_props hold "classes" (the class names in
output order, JSON), "input_shape" ([C,H,W]), "input_layout",
"normalization" and "lepton_model" (the checkpoint's model description);
the doc string states the layout. Layers are Gemm nodes with [out,in]
weights named layers.<i>.weight/bias, hidden activations Relu, Tanh,
Sigmoid or LeakyRelu. The training config is not needed.

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
			fmt.Fprintf(s.Err, "lepton: wrote %s (ONNX opset %d: pixels [N,%d] (%s, CHW) -> probabilities, logits [N,%d])\n",
				opts.Out, onnx.Opset, m.Spec.Input, m.Geometry, len(m.Classes))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Checkpoint, "checkpoint", "", checkpointUsage)
	f.StringVar(&opts.Runs, "runs", "runs", "`dir` searched for the newest finished run")
	f.StringVar(&opts.Format, "format", "onnx", "export `format`: onnx")
	f.BoolVar(&opts.Fold, "fold-normalization", false, "fold the input and batch normalization into the Gemm weights")
	return cmd
}
