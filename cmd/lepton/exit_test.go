package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestExitCodesByKind checks the README's promise for every kind of
// problem in every command: checkpoint problems exit 4, data problems 3,
// configuration and usage problems 2, each with a one-line message and
// nothing on stdout.
func TestExitCodesByKind(t *testing.T) {
	dataDir, runDir := trainToy(t, filepath.Join(t.TempDir(), "runs"), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	tmp := t.TempDir()

	fewNames := copyDir(t, dataDir)
	os.WriteFile(filepath.Join(fewNames, data.MetaFile), []byte("cat\ndog\nfrog\n"), 0o644)
	truncated := copyDir(t, dataDir)
	os.Truncate(filepath.Join(truncated, "data_batch_1.bin"), 2*data.RecordSize+5)

	// A digest-valid checkpoint whose stored config is invalid.
	ck, err := checkpoint.Load(best)
	if err != nil {
		t.Fatal(err)
	}
	ck.Meta.Config = "train:\n  epochs: -1\n"
	badConfig := filepath.Join(tmp, "bad-config.safetensors")
	if err := checkpoint.Save(badConfig, ck); err != nil {
		t.Fatal(err)
	}
	// A digest-valid checkpoint whose model description states another
	// input than its tensors have.
	ck.Meta.Model.Input.Height = 16
	lying := filepath.Join(tmp, "lying.safetensors")
	if err := checkpoint.Save(lying, ck); err != nil {
		t.Fatal(err)
	}
	onnxFile := filepath.Join(tmp, "model.onnx")
	if r := runCLI(t, nil, "export", "--checkpoint", best, onnxFile); r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.err)
	}
	cfg := writeConfig(t, toyConfig)
	missing := filepath.Join(tmp, "missing.safetensors")

	// A run whose last checkpoint's stored config is invalid: only a
	// resume reads that config.
	badRun := t.TempDir()
	for _, f := range []string{"config.yaml", "metrics.csv"} {
		b, err := os.ReadFile(filepath.Join(runDir, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(badRun, f), b, 0o644)
	}
	last, err := checkpoint.Load(filepath.Join(runDir, "checkpoints", "last.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	last.Meta.Config = "train:\n  epochs: -1\n"
	if err := os.MkdirAll(filepath.Join(badRun, "checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(filepath.Join(badRun, "checkpoints", "last.safetensors"), last); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"eval", "--checkpoint", badConfig, "--data", dataDir},
		{"predict", "--checkpoint", badConfig, pngFile(t, tmp)},
		{"export", "--checkpoint", badConfig, filepath.Join(tmp, "b.onnx")},
	} {
		if r := runCLI(t, nil, args...); r.code != exitOK {
			t.Errorf("%s of a checkpoint whose stored config is invalid: exit %d, %s (the config is not needed)", args[0], r.code, r.err)
		}
	}

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{name: "eval: missing checkpoint", args: []string{"eval", "--checkpoint", missing, "--data", dataDir},
			code: exitCheckpoint, want: "missing.safetensors"},
		{name: "predict: missing checkpoint", args: []string{"predict", "--checkpoint", missing, "x.png"},
			code: exitCheckpoint, want: "missing.safetensors"},
		{name: "export: missing checkpoint", args: []string{"export", "--checkpoint", missing, filepath.Join(tmp, "m.onnx")},
			code: exitCheckpoint, want: "missing.safetensors"},
		{name: "eval: description differs from the tensors", args: []string{"eval", "--checkpoint", lying, "--data", dataDir},
			code: exitCheckpoint, want: "tensor layers.0.weight has shape [32 3072], the model needs [32 1536]"},
		{name: "predict: description differs from the tensors", args: []string{"predict", "--checkpoint", lying, "x.png"},
			code: exitCheckpoint, want: "tensor layers.0.weight has shape [32 3072], the model needs [32 1536]"},
		{name: "export: description differs from the tensors", args: []string{"export", "--checkpoint", lying, filepath.Join(tmp, "l.onnx")},
			code: exitCheckpoint, want: "tensor layers.0.weight has shape [32 3072], the model needs [32 1536]"},
		{name: "eval: ONNX file as checkpoint", args: []string{"eval", "--checkpoint", onnxFile, "--data", dataDir},
			code: exitCheckpoint, want: "model.onnx is an ONNX model, not a lepton checkpoint"},
		{name: "predict: ONNX file as checkpoint", args: []string{"predict", "--checkpoint", onnxFile, "x.png"},
			code: exitCheckpoint, want: "is an ONNX model"},
		{name: "train: resume from a checkpoint whose stored config is invalid", args: []string{"train", "--resume", badRun, "--data", dataDir, "--quiet"},
			code: exitCheckpoint, want: "stored config"},
		{name: "train: resume with another model", args: []string{"train", "--resume", runDir, "--set", "model.hidden=[8]", "--data", dataDir, "--quiet"},
			code: exitCheckpoint, want: "model.hidden"},
		{name: "unknown command", args: []string{"trian", "--config", cfg},
			code: exitUsage, want: `unknown command "trian" for "lepton" (did you mean train?)`},
		{name: "model.input does not fit the data", args: []string{"train", "--config", cfg, "--set", "model.input=784", "--data", dataDir, "--out", filepath.Join(tmp, "r1"), "--quiet"},
			code: exitUsage, want: "model.input: is 784, but the images of data set cifar10 (32x32, 3 channels) have 3072 values"},
		{name: "model.classes does not fit the data", args: []string{"train", "--config", cfg, "--set", "model.classes=5", "--data", dataDir, "--out", filepath.Join(tmp, "r2"), "--quiet"},
			code: exitUsage, want: "model.classes: is 5, but data set cifar10 has 10 classes"},
		{name: "train: too few class names", args: []string{"train", "--config", cfg, "--data", fewNames, "--out", filepath.Join(tmp, "r3"), "--quiet"},
			code: exitData, want: data.MetaFile},
		{name: "eval: too few class names", args: []string{"eval", "--checkpoint", best, "--data", fewNames},
			code: exitData, want: data.MetaFile},
		{name: "data info: too few class names", args: []string{"data", "info", "--data", fewNames},
			code: exitData, want: data.MetaFile},
		{name: "data info: truncated batch", args: []string{"data", "info", "--data", truncated},
			code: exitData, want: "data_batch_1.bin"},
		{name: "data fetch --from: truncated batch", args: []string{"data", "fetch", "--from", truncated, "--data", filepath.Join(tmp, "dest")},
			code: exitData, want: "data_batch_1.bin"},
		{name: "data fetch --from: too few class names", args: []string{"data", "fetch", "--from", fewNames, "--data", filepath.Join(tmp, "dest")},
			code: exitData, want: data.MetaFile},
		{name: "eval --images: missing folder", args: []string{"eval", "--checkpoint", best, "--images", filepath.Join(tmp, "no-photos")},
			code: exitData, want: "no-photos"},
		{name: "data info: no data", args: []string{"data", "info", "--data", filepath.Join(tmp, "nothing")},
			code: exitData, want: "lepton data fetch"},
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

// pngFile writes a 32x32 PNG into dir and returns its path.
func pngFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "img.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, imaging.FromCIFAR(make([]byte, imaging.Size))); err != nil {
		t.Fatal(err)
	}
	return path
}
