package onnx

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	"gorgonia.org/tensor"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/model"
)

func testModel(t *testing.T, act string, hidden []int, seed uint64) *classifier.Model {
	return testModelBN(t, act, hidden, seed, false)
}

// testModelBN is testModel with batch normalization between hidden layers,
// whose gamma, beta and running statistics are random.
func testModelBN(t *testing.T, act string, hidden []int, seed uint64, bn bool) *classifier.Model {
	t.Helper()
	cfg := config.Default()
	cfg.Model.Input, cfg.Model.Classes = 3072, 10 // CIFAR-10's; a run fits them to its data
	cfg.Model.BatchNorm = bn
	cfg.Model.Hidden = hidden
	cfg.Model.Activation = act
	cfg.Model.LeakySlope = 0.1
	p, err := model.NewParams(cfg.Model.Spec(), seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	for i := range p.Layers {
		for j := range p.Layers[i].B {
			p.Layers[i].B[j] = float32(rng.NormFloat64() * 0.1)
		}
	}
	for _, l := range p.Layers {
		if l.BN == nil {
			continue
		}
		for j := range l.BN.Gamma {
			l.BN.Gamma[j] = float32(1 + 0.3*rng.NormFloat64())
			l.BN.Beta[j] = float32(0.2 * rng.NormFloat64())
			l.BN.RunningMean[j] = float32(0.5 * rng.NormFloat64())
			l.BN.RunningVar[j] = float32(0.2 + rng.Float64())
		}
	}
	stats := data.Stats{Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	return newCIFAR(t, cfg.Model.Spec(), p, stats, data.DefaultClasses())
}

// images returns n random images in CIFAR layout.
func images(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, data.CIFARGeometry.Size())
		for j := range out[i] {
			out[i][j] = byte(rng.IntN(256))
		}
	}
	return out
}

// leptonOutputs runs the classifier on imgs: logits and probabilities.
func leptonOutputs(t *testing.T, m *classifier.Model, imgs [][]byte) (logits [][]float32, probs [][]float64) {
	t.Helper()
	err := m.Logits(context.Background(), len(imgs),
		func(i int, dst []float32) { m.Stats.Normalize(dst, imgs[i]) },
		func(i int, l []float32) {
			logits = append(logits, append([]float32(nil), l...))
			probs = append(probs, model.Softmax(l))
		})
	if err != nil {
		t.Fatal(err)
	}
	return logits, probs
}

// runONNX runs the serialized model in gonnx on imgs (pixels/255).
func runONNX(t *testing.T, b []byte, imgs [][]byte) (logits, probs []float32) {
	t.Helper()
	mdl, err := gonnx.NewModelFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 0, len(imgs)*len(imgs[0]))
	for _, img := range imgs {
		for _, v := range img {
			x = append(x, float32(v)/255)
		}
	}
	out, err := mdl.Run(gonnx.Tensors{Input: tensor.New(tensor.WithShape(len(imgs), len(imgs[0])), tensor.WithBacking(x))})
	if err != nil {
		t.Fatal(err)
	}
	return out[Logits].Data().([]float32), out[Probabilities].Data().([]float32)
}

// TestMatchesClassifier exports models and runs them in gonnx:
// probabilities must match lepton's within 1e-6 and logits within 1e-5
// with the normalization and batch-norm nodes (1e-5 and 1e-4 folded).
// gonnx lacks LeakyRelu: TestAgainstPyTorch checks it (and the others) in
// PyTorch.
func TestMatchesClassifier(t *testing.T) {
	tests := []struct {
		act    string
		hidden []int
		fold   bool
		bn     bool
	}{
		{"relu", []int{128, 64, 32, 16}, false, false},
		{"tanh", []int{64}, false, false},
		{"sigmoid", []int{32, 32}, false, false},
		{"relu", nil, false, false},
		{"relu", []int{128, 64, 32, 16}, true, false},
		{"relu", []int{256, 64}, false, true},
		{"tanh", []int{64, 32}, true, true},
	}
	imgs := images(16, 3)
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%s %v fold=%v bn=%v", tc.act, tc.hidden, tc.fold, tc.bn), func(t *testing.T) {
			m := testModelBN(t, tc.act, tc.hidden, uint64(i+1), tc.bn)
			defer m.Close()
			b, err := Marshal(m, Options{ProducerVersion: "test", Fold: tc.fold})
			if err != nil {
				t.Fatal(err)
			}
			wantLogits, wantProbs := leptonOutputs(t, m, imgs)
			logits, probs := runONNX(t, b, imgs)
			var maxP, maxL float64
			for n := range imgs {
				for c := range 10 {
					maxP = math.Max(maxP, math.Abs(float64(probs[n*10+c])-wantProbs[n][c]))
					maxL = math.Max(maxL, math.Abs(float64(logits[n*10+c]-wantLogits[n][c])))
				}
			}
			t.Logf("max |p_onnx - p_lepton| = %.3g, max logit diff = %.3g", maxP, maxL)
			// The nodes compute what lepton computes (probabilities within
			// 1e-6); folding the normalization and batch norm into Gemm
			// reorders float32 rounding (within 1e-5).
			if tol := map[bool]float64{false: 1e-6, true: 1e-5}[tc.fold]; maxP >= tol {
				t.Errorf("probabilities differ by %g, want < %g", maxP, tol)
			}
			if tol := map[bool]float64{false: 1e-5, true: 1e-4}[tc.fold]; maxL >= tol {
				t.Errorf("logits differ by %g, want < %g", maxL, tol)
			}
		})
	}
}

// TestGreyModel exports a 28x28 grey model (MNIST's shape) with batch
// norm: the input is [N,784], the metadata and doc string state the
// geometry and layout, and gonnx's probabilities match lepton's to 1e-6.
func TestGreyModel(t *testing.T) {
	g := data.Geometry{Height: 28, Width: 28, Channels: 1}
	spec := model.Spec{Input: g.Size(), Hidden: []int{64, 32}, Classes: 10, Activation: "relu", Init: "he", BatchNorm: true}
	p, err := model.NewParams(spec, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range p.Layers {
		if l.BN != nil {
			for j := range l.BN.RunningVar {
				l.BN.RunningMean[j], l.BN.RunningVar[j] = 0.05*float32(j%7), 0.5+0.1*float32(j%4)
			}
		}
	}
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	m, err := classifier.New(spec, p, g, data.Stats{Mean: []float32{0.1307}, Std: []float32{0.3081}}, digits)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rng := rand.New(rand.NewPCG(8, 8))
	imgs := make([][]byte, 12)
	for i := range imgs {
		imgs[i] = make([]byte, g.Size())
		for j := range imgs[i] {
			imgs[i][j] = byte(rng.IntN(256))
		}
	}
	b, err := Marshal(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, want := leptonOutputs(t, m, imgs)
	_, probs := runONNX(t, b, imgs)
	var worst float64
	for n := range imgs {
		for c := range 10 {
			worst = math.Max(worst, math.Abs(float64(probs[n*10+c])-want[n][c]))
		}
	}
	t.Logf("28x28x1 model: max |p_onnx - p_lepton| = %.3g over %d images", worst, len(imgs))
	if worst >= 1e-6 {
		t.Errorf("probabilities differ by %g, want < 1e-6", worst)
	}

	mp, err := gonnx.ModelProtoFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, kv := range mp.MetadataProps {
		meta[kv.Key] = kv.Value
	}
	if meta["classes"] != `["0","1","2","3","4","5","6","7","8","9"]` || meta["input_shape"] != "[1,28,28]" {
		t.Errorf("metadata classes %q, input_shape %q", meta["classes"], meta["input_shape"])
	}
	if !strings.Contains(meta["lepton_model"], `"input":{"height":28,"width":28,"channels":1,"layout":"CHW"}`) {
		t.Errorf("lepton_model metadata %q", meta["lepton_model"])
	}
	var nodes []string
	for _, n := range mp.Graph.Node {
		nodes = append(nodes, n.OpType)
	}
	if got, want := strings.Join(nodes, " "), "Sub Div Gemm Sub Div Mul Add Relu Gemm Sub Div Mul Add Relu Gemm Softmax"; got != want {
		t.Errorf("nodes %s, want %s", got, want)
	}
	folded, err := Build(m, Options{Fold: true})
	if err != nil {
		t.Fatal(err)
	}
	nodes = nodes[:0]
	for _, n := range folded.Graph.Node {
		nodes = append(nodes, n.OpType)
	}
	if got, want := strings.Join(nodes, " "), "Gemm Relu Gemm Relu Gemm Softmax"; got != want {
		t.Errorf("folded nodes %s, want %s", got, want)
	}
	if in := mp.Graph.Input[0].Type.GetTensorType().Shape.Dim; in[1].GetDimValue() != 784 {
		t.Errorf("input width %d, want 784", in[1].GetDimValue())
	}
	for _, doc := range []string{mp.DocString, mp.Graph.Input[0].DocString, meta["input_layout"]} {
		if !strings.Contains(doc, "planar CHW [1,28,28]: one grey plane of 28 rows of 28 values") {
			t.Errorf("doc %q does not state the layout", doc)
		}
	}
	if !strings.Contains(mp.DocString, "28x28 grey images, 10 classes. Input: pixels [N,784]") {
		t.Errorf("doc string %q", mp.DocString)
	}
}

// TestRealImages compares logits and probabilities on CIFAR-10 test
// images when the data is here.
func TestRealImages(t *testing.T) {
	dir := cifartest.Dir(t)
	test, err := data.LoadTest(dir)
	if err != nil {
		t.Fatal(err)
	}
	var imgs [][]byte
	for i := range 64 {
		imgs = append(imgs, test.Image(i))
	}
	m := testModel(t, "relu", []int{128, 64, 32, 16}, 11)
	m.Stats = data.ComputeStats(test)
	b, err := Marshal(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantLogits, want := leptonOutputs(t, m, imgs)
	logits, probs := runONNX(t, b, imgs)
	for n := range imgs {
		for c := range 10 {
			if d := math.Abs(float64(probs[n*10+c]) - want[n][c]); d >= 1e-5 {
				t.Fatalf("image %d class %d: |probability diff| %g", n, c, d)
			}
			if d := math.Abs(float64(logits[n*10+c] - wantLogits[n][c])); d >= 1e-5 {
				t.Fatalf("image %d class %d: |logit diff| %g", n, c, d)
			}
		}
	}
}

func TestExportFile(t *testing.T) {
	m := testModel(t, "relu", []int{16}, 5)
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := Export(path, m, Options{ProducerVersion: "v9", Source: "best.safetensors"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := gonnx.ModelProtoFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range mp.Graph.Node {
		ops = append(ops, n.OpType)
	}
	if got := strings.Join(ops, " "); got != "Sub Div Gemm Relu Gemm Softmax" {
		t.Errorf("nodes %s", got)
	}
	folded, err := Build(m, Options{Fold: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(folded.Graph.Node); n != 4 || folded.Graph.Node[0].Input[0] != Input {
		t.Errorf("folded graph has %d nodes, first %v", n, folded.Graph.Node[0])
	}
	if mp.IrVersion != IRVersion || mp.OpsetImport[0].Version != Opset || mp.ProducerName != "lepton" || mp.ProducerVersion != "v9" {
		t.Errorf("header: ir %d opset %v producer %s %s", mp.IrVersion, mp.OpsetImport, mp.ProducerName, mp.ProducerVersion)
	}
	if !strings.Contains(mp.DocString, "best.safetensors") {
		t.Errorf("doc string %q", mp.DocString)
	}
	meta := map[string]string{}
	for _, kv := range mp.MetadataProps {
		meta[kv.Key] = kv.Value
	}
	if meta["classes"] != `["airplane","automobile","bird","cat","deer","dog","frog","horse","ship","truck"]` {
		t.Errorf("classes metadata %q", meta["classes"])
	}
	in := mp.Graph.Input[0].Type.GetTensorType().Shape.Dim
	if mp.Graph.Input[0].Name != Input || in[0].GetDimParam() != "N" || in[1].GetDimValue() != 3072 {
		t.Errorf("input %v", mp.Graph.Input[0])
	}
	// Deterministic bytes.
	again, _ := Marshal(m, Options{ProducerVersion: "v9", Source: "best.safetensors"})
	if string(again) != string(b) {
		t.Error("two exports of one model differ")
	}
}

func TestBuildErrors(t *testing.T) {
	m := testModel(t, "relu", []int{8}, 1)
	m.Classes = m.Classes[:9]
	if _, err := Build(m, Options{}); err == nil || !strings.Contains(err.Error(), "9 class names for 10 outputs") {
		t.Errorf("err %v", err)
	}
	m = testModel(t, "relu", []int{8}, 1)
	m.Spec.Activation = "swish"
	if _, err := Build(m, Options{}); err == nil || !strings.Contains(err.Error(), `"swish"`) {
		t.Errorf("err %v", err)
	}
}

// newCIFAR is classifier.New for 32x32 RGB images, failing t on error.
func newCIFAR(t testing.TB, spec model.Spec, p *model.Params, stats data.Stats, classes []string) *classifier.Model {
	t.Helper()
	m, err := classifier.New(spec, p, data.CIFARGeometry, stats, classes)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
