package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// result is what one command line produced.
type result struct {
	code     int
	out, err string
}

func runCLI(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	s := &streams{
		In:  strings.NewReader(""),
		Out: &out,
		Err: &errb,
		Getenv: func(k string) string {
			return env[k]
		},
		Environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
	}
	code, _ := execute(context.Background(), s, args)
	return result{code, out.String(), errb.String()}
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "toy.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const toyConfig = `name: toy
seed: 3
model:
  hidden: [32, 16]
train:
  epochs: 3
  batch_size: 32
  optimizer:
    lr: 0.003
`

func TestTrainEvalPredictEndToEnd(t *testing.T) {
	dataDir := cifartest.Toy(t, 400, 100, 1)
	cfg := writeConfig(t, toyConfig)
	runDir := filepath.Join(t.TempDir(), "run")

	r := runCLI(t, nil, "train", "--config", cfg, "--data", dataDir, "--out", runDir)
	if r.code != 0 {
		t.Fatalf("train exit %d: %s", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if got := lines[len(lines)-1]; got != runDir {
		t.Fatalf("last stdout line %q, want the run dir %q", got, runDir)
	}
	if !strings.Contains(r.err, "epoch 3/3") {
		t.Errorf("stderr lacks the per-epoch summary lines:\n%s", r.err)
	}
	for _, f := range []string{"config.yaml", "metrics.csv", "report.json", "checkpoints/last.safetensors", "checkpoints/best.safetensors"} {
		if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
			t.Errorf("run dir lacks %s: %v", f, err)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(runDir, "metrics.csv"))
	csvLines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if csvLines[0] != "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds" || len(csvLines) != 4 {
		t.Errorf("metrics.csv:\n%s", csv)
	}
	var rep struct {
		Test struct {
			Accuracy float64 `json:"accuracy"`
		} `json:"test"`
		Epochs int `json:"epochs"`
	}
	b, _ := os.ReadFile(filepath.Join(runDir, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Epochs != 3 || rep.Test.Accuracy < 0.5 {
		t.Errorf("report: epochs %d, test accuracy %v (toy data is easy: want >= 0.5)", rep.Epochs, rep.Test.Accuracy)
	}

	// eval reproduces the report's test accuracy exactly.
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	r = runCLI(t, nil, "eval", "--checkpoint", best, "--data", dataDir, "--output", "json")
	if r.code != 0 {
		t.Fatalf("eval exit %d: %s", r.code, r.err)
	}
	var ev struct {
		Accuracy float64 `json:"accuracy"`
	}
	if err := json.Unmarshal([]byte(r.out), &ev); err != nil {
		t.Fatalf("eval json: %v\n%s", err, r.out)
	}
	if ev.Accuracy != rep.Test.Accuracy {
		t.Errorf("eval accuracy %v, report.json %v", ev.Accuracy, rep.Test.Accuracy)
	}

	// predict: an upscaled test image, a non-image, and stdin-less default checkpoint lookup.
	test, err := data.LoadTest(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	imgDir := t.TempDir()
	good := filepath.Join(imgDir, "big.png")
	f, _ := os.Create(good)
	png.Encode(f, imaging.Upscale(imaging.FromCIFAR(test.Image(3)), 200, 150))
	f.Close()
	bad := filepath.Join(imgDir, "notes.txt")
	os.WriteFile(bad, []byte("not an image"), 0o644)

	r = runCLI(t, map[string]string{"LEPTON_CHECKPOINT": best}, "predict", "--output", "json", good, bad)
	if r.code != 1 {
		t.Fatalf("predict with one bad file: exit %d, want 1; stderr %s", r.code, r.err)
	}
	out := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(out) != 2 {
		t.Fatalf("predict JSON lines: %q", r.out)
	}
	var p0 struct {
		Path string `json:"path"`
		Top  []struct {
			Class       string  `json:"class"`
			Probability float64 `json:"probability"`
		} `json:"top"`
	}
	json.Unmarshal([]byte(out[0]), &p0)
	if p0.Path != good || len(p0.Top) != 3 || p0.Top[0].Class != test.Classes[test.Labels[3]] {
		t.Errorf("prediction for %s: %s (true class %s)", good, out[0], test.Classes[test.Labels[3]])
	}
	if !strings.Contains(out[1], `"error"`) || !strings.Contains(r.err, "notes.txt") {
		t.Errorf("bad file not reported: stdout %q stderr %q", out[1], r.err)
	}
	wantErr := []string{"lepton: using checkpoint " + best + " (LEPTON_CHECKPOINT)", "lepton: " + bad + ": image: unknown format"}
	if got := strings.Split(strings.TrimSpace(r.err), "\n"); strings.Join(got, "|") != strings.Join(wantErr, "|") {
		t.Errorf("stderr lines:\n%q\nwant\n%q", got, wantErr)
	}

	// A finished run is not overwritten without --force.
	r = runCLI(t, nil, "train", "--config", cfg, "--data", dataDir, "--out", runDir, "--quiet")
	if r.code != exitRunExists {
		t.Errorf("train into a finished run: exit %d, want %d (%s)", r.code, exitRunExists, r.err)
	}
}

func TestErrorsAreOneLineWithExitCodes(t *testing.T) {
	dataDir := cifartest.Toy(t, 50, 20, 1)
	typo := writeConfig(t, "train:\n  epoch: 3\n")
	corrupt := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(corrupt, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "typo'd config key", args: []string{"train", "--config", typo, "--data", dataDir}, code: exitUsage, want: "train.epoch: unknown key (did you mean train.epochs?)"},
		{name: "typo'd --set key", args: []string{"train", "--config", writeConfig(t, toyConfig), "--set", "train.epochs=1", "--set", "train.epoch=1"}, code: exitUsage, want: "train.epoch"},
		{name: "corrupt checkpoint, missing data", args: []string{"eval", "--checkpoint", corrupt, "--data", filepath.Join(t.TempDir(), "nothing")}, code: exitCheckpoint, want: "bad.safetensors"},
		{name: "corrupt checkpoint", args: []string{"eval", "--checkpoint", corrupt, "--data", dataDir}, code: exitCheckpoint, want: "bad.safetensors"},
		{name: "unknown flag", args: []string{"eval", "--nope"}, code: exitUsage, want: "unknown flag: --nope"},
		{name: "bad output format", args: []string{"data", "info", "--data", dataDir, "--output", "xml"}, code: exitUsage, want: `--output "xml"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", r.code, tc.code, r.err)
			}
			if !strings.Contains(r.err, tc.want) {
				t.Errorf("stderr %q lacks %q", r.err, tc.want)
			}
			if n := strings.Count(strings.TrimRight(r.err, "\n"), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, r.err)
			}
			if r.out != "" {
				t.Errorf("stdout should be empty on error, got %q", r.out)
			}
		})
	}
}

func TestMissingDataSaysHowToGetIt(t *testing.T) {
	cfg := writeConfig(t, toyConfig)
	empty := filepath.Join(t.TempDir(), "empty")
	r := runCLI(t, nil, "train", "--config", cfg, "--data", empty, "--out", filepath.Join(t.TempDir(), "r"))
	if r.code != exitData {
		t.Fatalf("exit %d, want %d: %s", r.code, exitData, r.err)
	}
	if !strings.Contains(r.err, "lepton data fetch") || !strings.Contains(r.err, empty) {
		t.Errorf("error should name the directory and say how to get data: %q", r.err)
	}
}
