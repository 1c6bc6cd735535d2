// Package onnx exports a trained lepton classifier as an ONNX model, the
// logic behind "lepton export --format onnx".
//
// The exported graph (ONNX IR version 8, opset 13) is:
//
//	pixels [N,C*H*W] -> Sub(mean) -> Div(std) -> Gemm -> act -> ... -> Gemm -> logits [N,K]
//	logits -> Softmax(axis=1) -> probabilities [N,K]
//
// Input "pixels" holds raw pixel values scaled to [0,1] (byte/255) of an
// image of the model's geometry (from its description: H x W pixels, C = 1
// grey or 3 RGB channels) in planar CHW order: the C channel planes one
// after the other (R, G, B), each H rows of W values. For CIFAR-10 that is
// [N,3072]: 1024 red, 1024 green, 1024 blue. The Sub and Div nodes apply
// lepton's per-channel normalization ((x-mean)/std, constants of C*H*W
// values broadcast over the batch), so the logits match lepton's to float32
// rounding; Options.Fold folds it into the first layer instead
// (W' = W/std, b' = b - W·(mean/std) per input channel).
// A hidden layer's batch normalization (running statistics) follows its
// Gemm as Sub, Div, Mul and Add nodes computing what lepton computes, in
// the same order; Options.Fold folds it into the Gemm instead. Gemm weights are
// stored as [out,in] (the PyTorch layout, transB=1) under lepton's names
// (layers.<i>.weight, layers.<i>.bias). Hidden activations are Relu, Tanh,
// Sigmoid or LeakyRelu(alpha). The graph outputs "probabilities" (Softmax,
// the last node) and also "logits". The model's metadata_props hold
// "classes" (the class names in output order, a JSON array),
// "input_shape" ([C,H,W], JSON), "input_layout" (in words),
// "normalization" ({"mean":[...],"std":[...]}) and "lepton_model" (the
// checkpoint's whole model description, JSON); the doc strings state the
// layout too.
package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/classifier"
)

// Versions written.
const (
	IRVersion = 8
	Opset     = 13
)

// Names of the graph's inputs and outputs.
const (
	Input         = "pixels"
	Logits        = "logits"
	Probabilities = "probabilities"
)

// Options describe the exported model.
type Options struct {
	// ProducerVersion is lepton's version, recorded in the model.
	ProducerVersion string
	// Source names the checkpoint, recorded in the model's doc string.
	Source string
	// Fold folds the input normalization into the first layer's weights
	// and bias instead of the Sub and Div nodes, and each batch
	// normalization into its layer's Gemm: fewer nodes, but the float32
	// rounding of the folded weights moves the logits by up to ~1e-4 (the
	// nodes reproduce lepton's logits to float32 rounding).
	Fold bool
}

// Export writes m as an ONNX model to path, atomically.
func Export(path string, m *classifier.Model, opts Options) error {
	b, err := Marshal(m, opts)
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Marshal returns m as a serialized ONNX ModelProto.
func Marshal(m *classifier.Model, opts Options) ([]byte, error) {
	mp, err := Build(m, opts)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("encode ONNX model: %w", err)
	}
	return b, nil
}

// Build returns m as an ONNX ModelProto.
func Build(m *classifier.Model, opts Options) (*onnx.ModelProto, error) {
	spec, layers := m.Spec, m.Params.Layers
	if len(layers) == 0 {
		return nil, fmt.Errorf("model has no layers")
	}
	channels := m.Geometry.Channels
	if layers[0].In != spec.Input || spec.Input != m.Geometry.Size() || m.Stats.Channels() != channels {
		return nil, fmt.Errorf("model input is %d values, want %d: %s images, normalized in %d channels", layers[0].In, spec.Input, m.Geometry, m.Stats.Channels())
	}
	if len(m.Classes) != layers[len(layers)-1].Out {
		return nil, fmt.Errorf("%d class names for %d outputs", len(m.Classes), layers[len(layers)-1].Out)
	}
	act, err := activation(spec.Activation, spec.LeakySlope)
	if err != nil {
		return nil, err
	}

	g := &onnx.GraphProto{Name: "lepton_mlp"}
	x := Input
	if !opts.Fold {
		mean, std := make([]float32, spec.Input), make([]float32, spec.Input)
		plane := spec.Input / channels
		for j := range mean {
			c := j / plane
			mean[j], std[j] = m.Stats.Mean[c], m.Stats.Std[c]
			if std[j] == 0 {
				std[j] = 1 // as data.Stats.Normalize does
			}
		}
		g.Initializer = append(g.Initializer,
			initializer("normalize.mean", []int64{int64(spec.Input)}, mean),
			initializer("normalize.std", []int64{int64(spec.Input)}, std))
		g.Node = append(g.Node,
			&onnx.NodeProto{Name: "normalize.sub", OpType: "Sub", Input: []string{Input, "normalize.mean"}, Output: []string{"normalize.centered"}},
			&onnx.NodeProto{Name: "normalize.div", OpType: "Div", Input: []string{"normalize.centered", "normalize.std"}, Output: []string{"normalize.out"}})
		x = "normalize.out"
	}
	for i, l := range layers {
		w, b := layerWeights(m, i, opts.Fold)
		wName, bName := fmt.Sprintf("layers.%d.weight", i), fmt.Sprintf("layers.%d.bias", i)
		g.Initializer = append(g.Initializer, initializer(wName, []int64{int64(l.Out), int64(l.In)}, w), initializer(bName, []int64{int64(l.Out)}, b))
		out := fmt.Sprintf("layers.%d.out", i)
		if i == len(layers)-1 {
			out = Logits
		}
		g.Node = append(g.Node, &onnx.NodeProto{
			Name: fmt.Sprintf("layers.%d", i), OpType: "Gemm",
			Input: []string{x, wName, bName}, Output: []string{out},
			Attribute: []*onnx.AttributeProto{intAttr("transB", 1)},
		})
		x = out
		if l.BN != nil && !opts.Fold {
			x = batchNormNodes(g, m, i, x)
		}
		if i < len(layers)-1 {
			a := fmt.Sprintf("act.%d", i)
			n := &onnx.NodeProto{Name: a, OpType: act.op, Input: []string{x}, Output: []string{a}}
			if act.alpha != nil {
				n.Attribute = []*onnx.AttributeProto{{Name: "alpha", Type: onnx.AttributeProto_FLOAT, F: *act.alpha}}
			}
			g.Node = append(g.Node, n)
			x = a
		}
	}
	g.Node = append(g.Node, &onnx.NodeProto{
		Name: "softmax", OpType: "Softmax", Input: []string{Logits}, Output: []string{Probabilities},
		Attribute: []*onnx.AttributeProto{intAttr("axis", 1)},
	})
	classes := int64(len(m.Classes))
	geo := m.Geometry
	layout := layoutText(geo.Height, geo.Width, geo.Channels)
	g.Input = []*onnx.ValueInfoProto{valueInfo(Input, int64(spec.Input), "raw pixels scaled to [0,1] (byte/255), "+layout)}
	g.Output = []*onnx.ValueInfoProto{
		valueInfo(Probabilities, classes, "softmax of the logits; classes in the order of metadata_props[\"classes\"]"),
		valueInfo(Logits, classes, "raw class scores"),
	}

	classesJSON, err := json.Marshal(m.Classes)
	if err != nil {
		return nil, fmt.Errorf("encode class names: %w", err)
	}
	statsJSON, err := json.Marshal(m.Stats)
	if err != nil {
		return nil, fmt.Errorf("encode normalization: %w", err)
	}
	norm := "normalized by the Sub and Div nodes"
	if opts.Fold {
		norm = "the normalization is folded into the first layer"
	}
	shapeJSON, err := json.Marshal([]int{geo.Channels, geo.Height, geo.Width})
	if err != nil {
		return nil, fmt.Errorf("encode input shape: %w", err)
	}
	cardJSON, err := json.Marshal(m.Card())
	if err != nil {
		return nil, fmt.Errorf("encode model description: %w", err)
	}
	doc := fmt.Sprintf("lepton MLP classifier for %dx%d %s images, %d classes. Input: %s [N,%d], raw pixels /255, %s; %s. Outputs: %s and %s [N,%d], classes in the order of metadata_props[\"classes\"].",
		geo.Width, geo.Height, colour(geo.Channels), len(m.Classes), Input, spec.Input, layout, norm, Probabilities, Logits, len(m.Classes))
	if opts.Source != "" {
		doc += " Exported from " + opts.Source + "."
	}
	return &onnx.ModelProto{
		IrVersion:       IRVersion,
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName:    "lepton",
		ProducerVersion: opts.ProducerVersion,
		DocString:       doc,
		Graph:           g,
		MetadataProps: []*onnx.StringStringEntryProto{
			{Key: "classes", Value: string(classesJSON)},
			{Key: "input_shape", Value: string(shapeJSON)},
			{Key: "input_layout", Value: "pixels/255, " + layout},
			{Key: "normalization", Value: string(statsJSON)},
			{Key: "lepton_model", Value: string(cardJSON)},
		},
	}, nil
}

// batchNormNodes appends hidden layer i's batch normalization (inference:
// running statistics) after its Gemm output x, computed as lepton computes
// it, in float32 and in the same order: Sub(running_mean) ->
// Div(sqrt(running_var + eps)) -> Mul(gamma) -> Add(beta). It returns the
// output's name.
func batchNormNodes(g *onnx.GraphProto, m *classifier.Model, i int, x string) string {
	bn := m.Params.Layers[i].BN
	eps := float32(m.Spec.Eps())
	std := make([]float32, len(bn.RunningVar))
	for j, v := range bn.RunningVar {
		std[j] = float32(math.Sqrt(float64(v + eps))) // float32 add, correctly rounded sqrt
	}
	n := int64(len(std))
	p := fmt.Sprintf("layers.%d.bn", i)
	g.Initializer = append(g.Initializer,
		initializer(p+".running_mean", []int64{n}, bn.RunningMean),
		initializer(p+".std", []int64{n}, std),
		initializer(p+".weight", []int64{n}, bn.Gamma),
		initializer(p+".bias", []int64{n}, bn.Beta))
	for _, step := range []struct{ op, arg, out string }{
		{"Sub", p + ".running_mean", p + ".centered"},
		{"Div", p + ".std", p + ".normalized"},
		{"Mul", p + ".weight", p + ".scaled"},
		{"Add", p + ".bias", p + ".out"},
	} {
		g.Node = append(g.Node, &onnx.NodeProto{Name: step.out, OpType: step.op, Input: []string{x, step.arg}, Output: []string{step.out}})
		x = step.out
	}
	return x
}

// layerWeights returns layer i's weights in [out,in] order and its bias;
// with fold, the input normalization is folded into layer 0:
// W'[o][j] = W[o][j]/std[c(j)] and b'[o] = b[o] - sum_j W[o][j]*mean[c(j)]/std[c(j)],
// where c(j) is input j's channel. The sums are done in float64.
//
// With fold, a hidden layer's batch normalization (inference: running
// statistics) is folded into its Gemm too: with s = gamma/sqrt(running_var+eps),
// W'[o] = W[o]*s[o] and b'[o] = (b[o]-running_mean[o])*s[o] + beta[o];
// without, batchNormNodes computes it after the Gemm.
func layerWeights(m *classifier.Model, i int, fold bool) (w, b []float32) {
	w, b = linearWeights(m, i, fold)
	bn := m.Params.Layers[i].BN
	if bn == nil || !fold {
		return w, b
	}
	in := m.Params.Layers[i].In
	eps := m.Spec.Eps()
	for o := range b {
		s := float64(bn.Gamma[o]) / math.Sqrt(float64(bn.RunningVar[o])+eps)
		for j := 0; j < in; j++ {
			w[o*in+j] = float32(float64(w[o*in+j]) * s)
		}
		b[o] = float32((float64(b[o])-float64(bn.RunningMean[o]))*s + float64(bn.Beta[o]))
	}
	return w, b
}

// linearWeights returns layer i's Gemm weights before batch-norm folding.
func linearWeights(m *classifier.Model, i int, fold bool) (w, b []float32) {
	l := m.Params.Layers[i]
	w = make([]float32, l.In*l.Out)
	b = make([]float32, l.Out)
	if i > 0 || !fold {
		for o := 0; o < l.Out; o++ {
			for j := 0; j < l.In; j++ {
				w[o*l.In+j] = l.W[j*l.Out+o]
			}
		}
		copy(b, l.B)
		return w, b
	}
	channels := m.Stats.Channels()
	mean, std := make([]float64, channels), make([]float64, channels)
	for c := range channels {
		mean[c], std[c] = float64(m.Stats.Mean[c]), float64(m.Stats.Std[c])
		if std[c] == 0 {
			std[c] = 1 // as data.Stats.Normalize does
		}
	}
	plane := l.In / channels
	for o := 0; o < l.Out; o++ {
		shift := float64(l.B[o])
		for j := 0; j < l.In; j++ {
			c := j / plane
			wt := float64(l.W[j*l.Out+o])
			w[o*l.In+j] = float32(wt / std[c])
			shift -= wt * mean[c] / std[c]
		}
		b[o] = float32(shift)
	}
	return w, b
}

// layoutText describes the planar CHW layout of an input in words.
func layoutText(h, w, c int) string {
	if c == 1 {
		return fmt.Sprintf("planar CHW [1,%d,%d]: one grey plane of %d rows of %d values", h, w, h, w)
	}
	return fmt.Sprintf("planar CHW [%d,%d,%d]: the red plane (%d rows of %d values, row-major), then green, then blue", c, h, w, h, w)
}

func colour(channels int) string {
	if channels == 1 {
		return "grey"
	}
	return "RGB"
}

type act struct {
	op    string
	alpha *float32
}

func activation(name string, slope float64) (act, error) {
	switch name {
	case "relu":
		return act{op: "Relu"}, nil
	case "tanh":
		return act{op: "Tanh"}, nil
	case "sigmoid":
		return act{op: "Sigmoid"}, nil
	case "leaky_relu":
		a := float32(slope)
		return act{op: "LeakyRelu", alpha: &a}, nil
	}
	return act{}, fmt.Errorf("activation %q has no ONNX export", name)
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

// initializer is a float32 tensor stored as little-endian raw_data.
func initializer(name string, dims []int64, v []float32) *onnx.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return &onnx.TensorProto{Name: name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}
}

// valueInfo describes a float tensor of shape [N, width] with a symbolic
// batch dimension N.
func valueInfo(name string, width int64, doc string) *onnx.ValueInfoProto {
	return &onnx.ValueInfoProto{
		Name:      name,
		DocString: doc,
		Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
			ElemType: int32(onnx.TensorProto_FLOAT),
			Shape: &onnx.TensorShapeProto{Dim: []*onnx.TensorShapeProto_Dimension{
				{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
				{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: width}},
			}},
		}}},
	}
}
