package main

import (
	"encoding/json"
	"fmt"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// TestRealDataEndToEnd trains the reference model for two epochs on the real
// data through the CLI, checks that eval reproduces report.json's test
// accuracy exactly, and that 100 test images written as upscaled PNG and
// JPEG files get the same top class from predict as eval gives the original
// 32x32 images in at least 85 of 100 cases.
func TestRealDataEndToEnd(t *testing.T) {
	dataDir := cifartest.Dir(t)
	runDir := filepath.Join(t.TempDir(), "run")
	r := runCLI(t, map[string]string{"LEPTON_DATA_DIR": dataDir},
		"train", "--config", "../../configs/mlp.yaml", "--epochs", "2", "--out", runDir, "--quiet")
	if r.code != 0 {
		t.Fatalf("train exit %d: %s", r.code, r.err)
	}
	var rep struct {
		Test struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"test"`
	}
	b, err := os.ReadFile(filepath.Join(runDir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &rep)
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	r = runCLI(t, map[string]string{"LEPTON_DATA_DIR": dataDir}, "eval", "--checkpoint", best, "--output", "json")
	if r.code != 0 {
		t.Fatalf("eval exit %d: %s", r.code, r.err)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(r.out), &ev); err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy: report.json %.4f, eval %.4f", rep.Test.Accuracy, ev.Accuracy)
	if ev.Accuracy != rep.Test.Accuracy || ev.Accuracy < 0.35 {
		t.Fatalf("eval accuracy %v, report.json %v (want equal and >= 0.35)", ev.Accuracy, rep.Test.Accuracy)
	}

	// Eval's own predictions for the first 100 test images.
	m, _, err := classifier.Load(best)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	test, err := data.LoadTest(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	sub := test.Subset(seq(100))
	res, err := m.Evaluate(t.Context(), sub, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 100; i++ {
		img := imaging.Upscale(imaging.FromCIFAR(sub.Image(i)), 96+i, 128)
		p := filepath.Join(dir, fmt.Sprintf("%03d.png", i))
		if i%2 == 1 {
			p = filepath.Join(dir, fmt.Sprintf("%03d.jpg", i))
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
		} else {
			err = png.Encode(f, img)
		}
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	r = runCLI(t, nil, append([]string{"predict", "--checkpoint", best, "--output", "json", "--top-k", "1"}, paths...)...)
	if r.code != 0 {
		t.Fatalf("predict exit %d: %s", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 100 {
		t.Fatalf("predict gave %d lines, want 100", len(lines))
	}
	agree := 0
	for i, line := range lines {
		var p struct {
			Path string `json:"path"`
			Top  []struct {
				Class string `json:"class"`
			} `json:"top"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		if p.Path != paths[i] {
			t.Fatalf("line %d is for %s, want %s", i, p.Path, paths[i])
		}
		if p.Top[0].Class == m.Classes[res.Pred[i]] {
			agree++
		}
	}
	t.Logf("predict on upscaled PNG/JPEG agrees with eval on %d of 100 images", agree)
	if agree < 85 {
		t.Errorf("predict agrees with eval on %d of 100 upscaled images, want >= 85", agree)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
