package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	"gorgonia.org/tensor"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
	"github.com/lepton-cli/lepton/internal/model"
)

// greyCheckpoint saves a 28x28 grey ten-class model with batch norm whose
// stored training config is not even YAML: predict, export and eval must
// not need it.
func greyCheckpoint(t *testing.T) string {
	t.Helper()
	g := data.Geometry{Height: 28, Width: 28, Channels: 1}
	spec := model.Spec{Input: g.Size(), Hidden: []int{32, 16}, Classes: 10, Activation: "relu", Init: "he", BatchNorm: true}
	p, err := model.NewParams(spec, 11)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range p.Layers {
		if l.BN != nil {
			for j := range l.BN.RunningVar {
				l.BN.RunningMean[j], l.BN.RunningVar[j] = 0.1*float32(j%5), 0.6+0.1*float32(j%3)
			}
		}
	}
	m, err := classifier.New(spec, p, g, data.Stats{Mean: []float32{0.2860}, Std: []float32{0.3530}},
		[]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Data = checkpoint.DataSource{Dataset: "fashion-mnist", Location: "/nowhere/fashion-mnist"}
	m.TrainConfig = "model: [this is not a config\n"
	ck, err := m.Checkpoint(checkpoint.Meta{Epoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "grey.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	return path
}

// rgbJPEG writes a colourful 64x48 RGB JPEG and returns its path.
func rgbJPEG(t *testing.T, dir string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 4), uint8(255 - y*5), uint8((x * y) % 256), 255})
		}
	}
	path := filepath.Join(dir, "photo.jpg")
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestGreyModelPredictExport: "lepton predict" of an RGB JPEG with a grey
// 28x28 model (converted to 28x28 grey as the folder loader converts),
// then "lepton export" of the model run by gonnx on the same pixels: the
// ONNX probabilities match predict's to 1e-6. Neither command reads the
// training config (the stored one is not YAML).
func TestGreyModelPredictExport(t *testing.T) {
	ck := greyCheckpoint(t)
	dir := t.TempDir()
	photo := rgbJPEG(t, dir)

	r := runCLI(t, nil, "predict", "--checkpoint", ck, "--output", "json", "--top-k", "10", photo)
	if r.code != 0 {
		t.Fatalf("predict exit %d: %s", r.code, r.err)
	}
	var pred struct {
		Top []struct {
			Class       string  `json:"class"`
			Probability float64 `json:"probability"`
		} `json:"top"`
	}
	if err := json.Unmarshal([]byte(r.out), &pred); err != nil || len(pred.Top) != 10 {
		t.Fatalf("predict output %q: %v", r.out, err)
	}
	leptonP := map[string]float64{}
	for _, c := range pred.Top {
		leptonP[c.Class] = c.Probability
	}

	out := filepath.Join(dir, "grey.onnx")
	r = runCLI(t, nil, "export", "--checkpoint", ck, "--format", "onnx", out)
	if r.code != 0 || !strings.Contains(r.err, "pixels [N,784] (28x28x1, CHW)") {
		t.Fatalf("export exit %d: %s", r.code, r.err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mdl, err := gonnx.NewModelFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(photo)
	if err != nil {
		t.Fatal(err)
	}
	img, err := imaging.Decode(f, 0)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pixels := imaging.Planar(img, 28, 28, 1, imaging.Stretch)
	x := make([]float32, len(pixels))
	for i, v := range pixels {
		x[i] = float32(v) / 255
	}
	res, err := mdl.Run(gonnx.Tensors{"pixels": tensor.New(tensor.WithShape(1, 784), tensor.WithBacking(x))})
	if err != nil {
		t.Fatal(err)
	}
	probs := res["probabilities"].Data().([]float32)
	mp, err := gonnx.ModelProtoFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	for _, kv := range mp.MetadataProps {
		if kv.Key == "classes" {
			if err := json.Unmarshal([]byte(kv.Value), &classes); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(classes) != 10 || classes[9] != "Ankle boot" {
		t.Fatalf("ONNX classes metadata %q", classes)
	}
	worst := 0.0
	for i, c := range classes {
		worst = math.Max(worst, math.Abs(float64(probs[i])-leptonP[c]))
	}
	t.Logf("predict %s: top %s %.6f; ONNX (gonnx) vs lepton predict: max |dp| = %.3g", filepath.Base(photo), pred.Top[0].Class, pred.Top[0].Probability, worst)
	if worst >= 1e-6 {
		t.Errorf("ONNX probabilities differ from lepton's by %g, want < 1e-6", worst)
	}

	// eval --images converts the same way; without --data it names the
	// checkpoint's data set, which is not there.
	if err := os.MkdirAll(filepath.Join(dir, "imgs", "Bag"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(photo, filepath.Join(dir, "imgs", "Bag", "photo.jpg")); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "eval", "--checkpoint", ck, "--images", filepath.Join(dir, "imgs"), "--output", "json")
	if r.code != 0 || !strings.Contains(r.out, `"count": 1`) {
		t.Errorf("eval --images exit %d: %s %s", r.code, r.out, r.err)
	}
	r = runCLI(t, nil, "eval", "--checkpoint", ck)
	if r.code != 3 || !strings.Contains(r.err, "the checkpoint's fashion-mnist data set /nowhere/fashion-mnist does not exist") {
		t.Errorf("eval without data: exit %d, stderr %q; want 3 naming the checkpoint's data set", r.code, r.err)
	}
}

// TestMismatchedCheckpointExit4: a checkpoint whose description states
// another input size than its tensors have is refused by eval, predict and
// export with exit 4, naming the tensor and both shapes.
func TestMismatchedCheckpointExit4(t *testing.T) {
	ck, err := checkpoint.Load(greyCheckpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	ck.Meta.Model.Input = checkpoint.Input{Height: 32, Width: 32, Channels: 1, Layout: "CHW"}
	path := filepath.Join(t.TempDir(), "lying.safetensors")
	if err := checkpoint.Save(path, ck); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	photo := rgbJPEG(t, dir)
	const want = "tensor layers.0.weight has shape [32 784], the model needs [32 1024]"
	for _, args := range [][]string{
		{"predict", "--checkpoint", path, photo},
		{"eval", "--checkpoint", path, "--images", dir},
		{"export", "--checkpoint", path, "--format", "onnx", filepath.Join(dir, "x.onnx")},
	} {
		r := runCLI(t, nil, args...)
		if r.code != 4 || !strings.Contains(r.err, want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q; want 4 and one line with %q", args[0], r.code, r.err, want)
		}
	}
}

// catDogFolder writes a learnable two-class image folder (cat/, dog/; no
// train/ or test/, so a run holds out data.test_split of it) and returns it.
func catDogFolder(t *testing.T, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	d := cifartest.ToySet(data.CIFARGeometry, n, rng)
	var idx []int
	for i, l := range d.Labels {
		if l < 2 {
			idx = append(idx, i)
		}
	}
	d = d.Subset(idx)
	d.Classes = []string{"cat", "dog"}
	dir := filepath.Join(t.TempDir(), "catdog")
	if err := data.WriteFolder(dir, d, "png"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEvalWithoutDataFollowsTheRun trains on each kind of data set and
// runs "lepton eval" on the best checkpoint without --data: it must
// measure the run's own test set (for a folder without test/, the same
// seeded share), giving report.json's test accuracy exactly. A data set
// with other class names is refused with exit 3, naming both lists.
func TestEvalWithoutDataFollowsTheRun(t *testing.T) {
	folder := catDogFolder(t, 300)
	tests := []struct {
		name    string
		dataDir string
		sets    []string
		kind    string
	}{
		{name: "CIFAR-10", dataDir: cifartest.Toy(t, 200, 60, 2), kind: "cifar10"},
		{name: "MNIST IDX, grey 28x28", dataDir: cifartest.ToyIDX(t, 200, 60, 3), sets: []string{"data.dataset=mnist"}, kind: "mnist"},
		{name: "folder, test share", dataDir: folder, sets: []string{"data.dataset=folder", "data.test_split=0.3", "data.image_size=[16,16]", "data.channels=1"}, kind: "folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			args := []string{"train", "--config", writeConfig(t, toyConfig), "--data", tc.dataDir, "--out", run, "--quiet", "--epochs", "2"}
			for _, s := range tc.sets {
				args = append(args, "--set", s)
			}
			env := map[string]string{"XDG_CACHE_HOME": t.TempDir()}
			if r := runCLI(t, env, args...); r.code != 0 {
				t.Fatalf("train exit %d: %s", r.code, r.err)
			}
			b, err := os.ReadFile(filepath.Join(run, "report.json"))
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Test struct {
					Accuracy float64 `json:"accuracy"`
					Count    int     `json:"count"`
				} `json:"test"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, env, "eval", "--checkpoint", run, "--output", "json")
			if r.code != 0 {
				t.Fatalf("eval exit %d: %s", r.code, r.err)
			}
			var got struct {
				Accuracy float64 `json:"accuracy"`
				Count    int     `json:"count"`
			}
			if err := json.Unmarshal([]byte(r.out), &got); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: report.json test %.4f on %d, eval without --data %.4f on %d; %s", tc.kind, rep.Test.Accuracy, rep.Test.Count, got.Accuracy, got.Count, strings.TrimSpace(r.err))
			if got != rep.Test || got.Count == 0 {
				t.Errorf("eval without --data measured %+v, the run's test set %+v", got, rep.Test)
			}
			if !strings.Contains(r.err, "evaluating on the test set of "+tc.kind+" "+tc.dataDir+" (the checkpoint's data set)") {
				t.Errorf("stderr %q does not name the checkpoint's data set", r.err)
			}
		})
	}

	// The cat/dog model on a folder of CIFAR-10's classes: refused, both
	// lists named.
	run := filepath.Join(t.TempDir(), "catdog")
	if r := runCLI(t, nil, "train", "--config", writeConfig(t, toyConfig), "--data", folder, "--set", "data.dataset=folder", "--out", run, "--quiet", "--epochs", "1"); r.code != 0 {
		t.Fatalf("train exit %d: %s", r.code, r.err)
	}
	cifar := filepath.Join(t.TempDir(), "cifar-folder")
	if err := data.WriteFolder(cifar, cifartest.ToySet(data.CIFARGeometry, 20, rand.New(rand.NewPCG(1, 1))), "png"); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "eval", "--checkpoint", run, "--data", cifar)
	want := "the folder data set at " + cifar + " has classes [airplane automobile bird cat deer ... (10 classes)], the checkpoint [cat dog]"
	if r.code != exitData || !strings.Contains(r.err, want) {
		t.Errorf("eval of a cat/dog model on CIFAR-10: exit %d, stderr %q; want 3 and %q", r.code, r.err, want)
	}
}
