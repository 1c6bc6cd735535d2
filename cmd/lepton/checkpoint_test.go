package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/data"
)

// TestCheckpointTakesARunDirectory checks that eval, predict and export
// accept a run directory (or its checkpoints folder) for --checkpoint and
// $LEPTON_CHECKPOINT, use its best checkpoint, and say so on stderr.
func TestCheckpointTakesARunDirectory(t *testing.T) {
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	test, _ := data.LoadTest(dataDir)
	imgs := cifarFolder(t, test)
	note := "lepton: using checkpoint " + best + " (the best of run " + runDir + ")"

	fromFile := runCLI(t, nil, "eval", "--checkpoint", best, "--data", dataDir, "--output", "json")
	if fromFile.code != 0 {
		t.Fatalf("eval --checkpoint FILE: exit %d: %s", fromFile.code, fromFile.err)
	}
	predFile := runCLI(t, nil, "predict", "--checkpoint", best, "--output", "csv", imgs)
	if predFile.code != 0 {
		t.Fatalf("predict --checkpoint FILE: exit %d: %s", predFile.code, predFile.err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // stdout, when checked
	}{
		{name: "eval", args: []string{"eval", "--checkpoint", runDir, "--data", dataDir, "--output", "json"}, want: fromFile.out},
		{name: "eval, checkpoints folder", args: []string{"eval", "--checkpoint", filepath.Join(runDir, "checkpoints"), "--data", dataDir, "--output", "json"}, want: fromFile.out},
		{name: "predict", args: []string{"predict", "--checkpoint", runDir, "--output", "csv", imgs}, want: predFile.out},
		{name: "predict, LEPTON_CHECKPOINT", env: map[string]string{"LEPTON_CHECKPOINT": runDir}, args: []string{"predict", "--output", "csv", imgs}, want: predFile.out},
		{name: "export", args: []string{"export", "--checkpoint", runDir, filepath.Join(t.TempDir(), "m.onnx")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			if !strings.Contains(r.err, note) {
				t.Errorf("stderr %q lacks %q", r.err, note)
			}
			if tc.want != "" && r.out != tc.want {
				t.Errorf("stdout differs from the one with --checkpoint %s:\n%s\nwant\n%s", best, r.out, tc.want)
			}
		})
	}

	// A directory that holds no best checkpoint is a checkpoint error.
	empty := t.TempDir()
	for _, cmd := range [][]string{
		{"eval", "--checkpoint", empty, "--data", dataDir},
		{"predict", "--checkpoint", empty, imgs},
		{"export", "--checkpoint", empty, filepath.Join(t.TempDir(), "m.onnx")},
	} {
		r := runCLI(t, nil, cmd...)
		if r.code != exitCheckpoint || !strings.Contains(r.err, empty+" is a directory without checkpoints/best.safetensors") {
			t.Errorf("%s --checkpoint EMPTY_DIR: exit %d, stderr %q", cmd[0], r.code, r.err)
		}
	}

	// An unfinished run says its best checkpoint is the best so far.
	os.Remove(filepath.Join(runDir, "report.json"))
	r := runCLI(t, nil, "eval", "--checkpoint", runDir, "--data", dataDir)
	if r.code != 0 || !strings.Contains(r.err, "the run is not finished: best epoch so far") {
		t.Errorf("eval of an unfinished run: exit %d, stderr %q", r.code, r.err)
	}
}

// TestTopK checks that --top-k below 1 is refused and --top-k above the
// number of classes is capped with a note.
func TestTopK(t *testing.T) {
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	test, _ := data.LoadTest(dataDir)
	imgs := cifarFolder(t, test)
	for _, k := range []string{"0", "-2"} {
		for _, cmd := range [][]string{
			{"eval", "--checkpoint", best, "--data", dataDir, "--top-k", k},
			{"predict", "--checkpoint", best, "--top-k", k, imgs},
		} {
			r := runCLI(t, nil, cmd...)
			if r.code != exitUsage || r.err != "lepton: --top-k "+k+": want at least 1\n" || r.out != "" {
				t.Errorf("%s --top-k %s: exit %d, stderr %q", cmd[0], k, r.code, r.err)
			}
		}
	}
	capped := "lepton: --top-k 25 is more than the checkpoint's 10 classes: using 10\n"
	r := runCLI(t, nil, "eval", "--checkpoint", best, "--data", dataDir, "--top-k", "25")
	if r.code != 0 || r.err != capped || !strings.Contains(r.out, "top-10 accuracy: 1.0000") {
		t.Errorf("eval --top-k 25: exit %d, stderr %q, stdout:\n%s", r.code, r.err, r.out)
	}
	r = runCLI(t, nil, "predict", "--checkpoint", best, "--top-k", "25", "--output", "csv", filepath.Join(imgs, "cat", "0003.png"))
	header := strings.SplitN(r.out, "\n", 2)[0]
	if r.code != 0 || r.err != capped || !strings.Contains(header, "class_10,probability_10,error") {
		t.Errorf("predict --top-k 25: exit %d, stderr %q, header %q", r.code, r.err, header)
	}
}
