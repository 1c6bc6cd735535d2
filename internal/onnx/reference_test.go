package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// referencePython returns a Python with the onnx and torch modules
// ($PYTHON, else /usr/bin/python3, else python3). Without one the test
// fails under CI (CI set) and is skipped elsewhere.
func referencePython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
		if _, err := os.Stat("/usr/bin/python3"); err == nil {
			py = "/usr/bin/python3"
		}
	}
	if out, err := exec.Command(py, "-c", "import onnx, torch").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s lacks onnx or torch (apt-get install python3-onnx python3-torch, or set PYTHON): %v %s", py, err, out)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// TestAgainstPyTorch runs exported models in PyTorch (scripts/onnx_torch.py
// evaluates the ONNX graph with torch's operators): the LeakyRelu nodes,
// which gonnx lacks (and runONNX replaces with the test's own), and the
// other activations are checked against an implementation that is not
// lepton's. Logits and probabilities must match lepton's within 1e-5
// (1e-4 for logits when the normalization or batch norm is folded).
func TestAgainstPyTorch(t *testing.T) {
	py := referencePython(t)
	tests := []struct {
		act    string
		hidden []int
		fold   bool
		bn     bool
	}{
		{"leaky_relu", []int{48, 24}, false, false},
		{"leaky_relu", []int{48, 24}, true, false},
		{"leaky_relu", []int{64, 32}, false, true},
		{"relu", []int{128, 64}, false, false},
		{"tanh", []int{64}, true, false},
		{"sigmoid", []int{32, 32}, false, false},
	}
	imgs := images(16, 7)
	dir := t.TempDir()
	input := filepath.Join(dir, "pixels.f32")
	raw := make([]byte, 0, len(imgs)*len(imgs[0])*4)
	for _, img := range imgs {
		for _, v := range img {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)/255))
		}
	}
	if err := os.WriteFile(input, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"../../scripts/onnx_torch.py", input, fmt.Sprint(len(imgs))}
	type want struct {
		name           string
		logits         [][]float32
		probs          [][]float64
		logitTolerance float64
		out            string
	}
	var wants []want
	for i, tc := range tests {
		m := testModelBN(t, tc.act, tc.hidden, uint64(20+i), tc.bn)
		m.Spec.LeakySlope = 0.2
		b, err := Marshal(m, Options{ProducerVersion: "test", Fold: tc.fold})
		if err != nil {
			t.Fatal(err)
		}
		logits, probs := leptonOutputs(t, m, imgs)
		m.Close()
		name := fmt.Sprintf("%s %v fold=%v bn=%v", tc.act, tc.hidden, tc.fold, tc.bn)
		model, out := filepath.Join(dir, fmt.Sprintf("m%d.onnx", i)), filepath.Join(dir, fmt.Sprintf("m%d.json", i))
		if err := os.WriteFile(model, b, 0o644); err != nil {
			t.Fatal(err)
		}
		tol := 1e-5
		if tc.fold || tc.bn {
			tol = 1e-4
		}
		wants = append(wants, want{name, logits, probs, tol, out})
		args = append(args, model, out)
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s scripts/onnx_torch.py: %v\n%s", py, err, out)
	}
	for _, w := range wants {
		t.Run(w.name, func(t *testing.T) {
			b, err := os.ReadFile(w.out)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Logits        [][]float64 `json:"logits"`
				Probabilities [][]float64 `json:"probabilities"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Logits) != len(imgs) || len(got.Probabilities) != len(imgs) {
				t.Fatalf("PyTorch gave %d logits rows, %d probability rows for %d images", len(got.Logits), len(got.Probabilities), len(imgs))
			}
			var maxL, maxP float64
			for n := range imgs {
				for c := range w.logits[n] {
					maxL = math.Max(maxL, math.Abs(got.Logits[n][c]-float64(w.logits[n][c])))
					maxP = math.Max(maxP, math.Abs(got.Probabilities[n][c]-w.probs[n][c]))
				}
			}
			t.Logf("PyTorch vs lepton: max logit diff %.3g, max probability diff %.3g", maxL, maxP)
			if maxL >= w.logitTolerance || maxP >= 1e-5 {
				t.Errorf("logits differ by %g (want < %g), probabilities by %g (want < 1e-5)", maxL, w.logitTolerance, maxP)
			}
		})
	}
}
