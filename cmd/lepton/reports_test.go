package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	"github.com/spf13/cobra"
	"gorgonia.org/tensor"

	"github.com/lepton-cli/lepton/internal/cifartest"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/imaging"
)

// runCLIIn is runCLI with standard input.
func runCLIIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	s := &streams{
		In: strings.NewReader(stdin), Out: &out, Err: &errb,
		Getenv:  func(string) string { return "" },
		Environ: func() []string { return nil },
	}
	code, _ := execute(context.Background(), s, args)
	return result{code, out.String(), errb.String()}
}

// trainToy trains the toy config into runs/<name> and returns the data
// directory and the run directory.
func trainToy(t *testing.T, runs, name string) (dataDir, runDir string) {
	t.Helper()
	dataDir = cifartest.Toy(t, 400, 100, 1)
	runDir = filepath.Join(runs, name)
	r := runCLI(t, nil, "train", "--config", writeConfig(t, toyConfig), "--data", dataDir, "--out", runDir, "--quiet")
	if r.code != 0 {
		t.Fatalf("train exit %d: %s", r.code, r.err)
	}
	return dataDir, runDir
}

func isPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

func TestRunsAndReport(t *testing.T) {
	runsDir := filepath.Join(t.TempDir(), "runs")
	_, runDir := trainToy(t, runsDir, "toy-a")
	// An interrupted-looking run: metrics only.
	half := filepath.Join(runsDir, "toy-b")
	os.MkdirAll(half, 0o755)
	os.WriteFile(filepath.Join(half, "config.yaml"), []byte("name: half\n"), 0o644)
	os.WriteFile(filepath.Join(half, "metrics.csv"), []byte("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,2,0.2,2,0.25,0.01,30\n"), 0o644)

	r := runCLI(t, nil, "runs", runsDir)
	if r.code != 0 {
		t.Fatalf("runs exit %d: %s", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "name config data epochs best_val_acc test_acc minutes status" {
		t.Fatalf("runs table:\n%s", r.out)
	}
	if f := strings.Fields(lines[1]); f[0] != "toy-a" || f[1] != "toy" || f[2] != "cifar10" || f[3] != "3" || f[7] != "finished" {
		t.Errorf("finished row %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "toy-b" || f[1] != "half" || f[2] != "cifar10" || f[5] != "-" || f[6] != "0.5" || f[7] != "incomplete" {
		t.Errorf("incomplete row %q", lines[2])
	}

	r = runCLI(t, nil, "runs", runsDir, "--output", "json", "--sort", "best_val_acc", "--reverse")
	var list []struct {
		Name    string   `json:"name"`
		TestAcc *float64 `json:"test_acc"`
		Dir     string   `json:"dir"`
	}
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list) != 2 {
		t.Fatalf("runs json: %v\n%s", err, r.out)
	}
	if list[0].Name != "toy-a" || list[0].TestAcc == nil || list[0].Dir != runDir || list[1].TestAcc != nil {
		t.Errorf("runs json sorted by best_val_acc desc: %+v", list)
	}

	r = runCLI(t, nil, "report", runDir)
	if r.code != 0 {
		t.Fatalf("report exit %d: %s", r.code, r.err)
	}
	for _, want := range []string{"config:       toy", "status:       finished", "epochs:       3", "best val acc: 0.", "test acc:     0.", "time:"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("report lacks %q:\n%s", want, r.out)
		}
	}
	if r.err != "" {
		t.Errorf("report wrote to stderr: %q", r.err)
	}
	isPNG(t, filepath.Join(runDir, "curves.png"))
	isPNG(t, filepath.Join(runDir, "confusion.png"))

	r = runCLI(t, nil, "report", "--output", "json", half)
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.out), &sum); err != nil || sum["status"] != "incomplete" || sum["confusion"] != nil {
		t.Errorf("report json for an incomplete run: %v\n%s", err, r.out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"runs", runsDir, "--sort", "speed"}, exitUsage, `--sort "speed": want one of name, config, data, epochs, best_val_acc, test_acc, minutes, status`},
		{[]string{"runs", runsDir, "--output", "xml"}, exitUsage, `--output "xml"`},
		{[]string{"runs", filepath.Join(runsDir, "none")}, exitFailure, "lepton train"},
		{[]string{"report", filepath.Join(runsDir)}, exitFailure, "is not a run directory"},
		{[]string{"report"}, exitUsage, "accepts 1 arg"},
	} {
		r := runCLI(t, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.err, tc.want) || strings.Count(r.err, "\n") != 1 || r.out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d and one line with %q", tc.args, r.code, r.err, r.out, tc.code, tc.want)
		}
	}
}

// cifarFolder writes a data set's images as DIR/<class>/<i>.png.
func cifarFolder(t *testing.T, ds *data.Dataset) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "imgs")
	for i := range ds.Len() {
		p := filepath.Join(dir, ds.Classes[ds.Labels[i]], fmt.Sprintf("%04d.png", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, imaging.FromCIFAR(ds.Image(i)))
		f.Close()
	}
	return dir
}

func TestEvalImages(t *testing.T) {
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	test, err := data.LoadTest(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	imgs := cifarFolder(t, test)

	ref := runCLI(t, nil, "eval", "--checkpoint", best, "--data", dataDir, "--output", "json")
	plotPath := filepath.Join(t.TempDir(), "cm.png")
	r := runCLI(t, nil, "eval", "--checkpoint", best, "--images", imgs, "--output", "json", "--plot", plotPath)
	if r.code != 0 || ref.code != 0 {
		t.Fatalf("eval exit %d / %d: %s %s", r.code, ref.code, r.err, ref.err)
	}
	// The same images, as PNG class folders, measure exactly alike (the
	// order differs, the counts do not).
	if r.out != ref.out {
		t.Errorf("eval --images differs from eval on the same test images:\n%s\n%s", r.out, ref.out)
	}
	isPNG(t, plotPath)
	if r.err != "lepton: wrote the confusion matrix to "+plotPath+"\n" {
		t.Errorf("stderr %q", r.err)
	}

	os.MkdirAll(filepath.Join(imgs, "unicorn"), 0o755)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--images", imgs}, exitData, "folder " + filepath.Join(imgs, "unicorn") + " is not a class of the checkpoint"},
		{[]string{"--images", imgs, "--plot", "cm.svg"}, exitUsage, "--plot cm.svg: only PNG"},
		{[]string{"--output", "yaml"}, exitUsage, `--output "yaml"`},
	} {
		r := runCLI(t, nil, append([]string{"eval", "--checkpoint", best}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.err, tc.want) || strings.Count(r.err, "\n") != 1 || r.out != "" {
			t.Errorf("%v: exit %d stderr %q; want %d and %q", tc.args, r.code, r.err, tc.code, tc.want)
		}
	}
}

func TestPredictAtScaleCLI(t *testing.T) {
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	test, _ := data.LoadTest(dataDir)
	imgs := cifarFolder(t, test)

	r := runCLI(t, nil, "predict", "--checkpoint", best, "--output", "csv", "--top-k", "2", imgs)
	if r.code != 0 {
		t.Fatalf("predict exit %d: %s", r.code, r.err)
	}
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	if lines[0] != "path,class,probability,class_2,probability_2,error" || len(lines) != 101 {
		t.Errorf("csv: %d lines, header %q", len(lines), lines[0])
	}
	correct := 0
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if strings.Split(filepath.ToSlash(strings.TrimPrefix(f[0], imgs+string(filepath.Separator))), "/")[0] == f[1] {
			correct++
		}
	}
	if correct < 50 {
		t.Errorf("%d of 100 predicted as their folder's class (toy data is easy)", correct)
	}

	list := strings.Join([]string{filepath.Join(imgs, "cat"), filepath.Join(imgs, "dog", "0005.png"), ""}, "\n")
	r = runCLIIn(t, list, "predict", "--checkpoint", best, "--files-from", "-", "--output", "json", "--logits")
	if r.code != 0 {
		t.Fatalf("predict --files-from -: exit %d %s", r.code, r.err)
	}
	lines = strings.Split(strings.TrimSpace(r.out), "\n")
	if len(lines) != 11 {
		t.Fatalf("%d JSON lines, want 10 cats and a dog", len(lines))
	}
	var last struct {
		Path   string    `json:"path"`
		Logits []float64 `json:"logits"`
	}
	json.Unmarshal([]byte(lines[10]), &last)
	if last.Path != filepath.Join(imgs, "dog", "0005.png") || len(last.Logits) != 10 {
		t.Errorf("last line %s", lines[10])
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--logits", imgs}, "--logits needs --output json or csv"},
		{[]string{}, "no images given"},
		{[]string{"--output", "xml", imgs}, `--output "xml"`},
		{[]string{"--files-from", "-", "-"}, "standard input cannot be both"},
	} {
		r := runCLI(t, nil, append([]string{"predict", "--checkpoint", best}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.err, tc.want) || r.out != "" {
			t.Errorf("%v: exit %d stderr %q", tc.args, r.code, r.err)
		}
	}
}

// TestExportONNX exports a trained checkpoint and runs it in gonnx: its
// logits and probabilities must match "lepton predict --logits" within 1e-5.
func TestExportONNX(t *testing.T) {
	dataDir, runDir := trainToy(t, t.TempDir(), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	out := filepath.Join(t.TempDir(), "toy.onnx")
	r := runCLI(t, nil, "export", "--checkpoint", best, "--format", "onnx", out)
	if r.code != 0 || r.out != "" || !strings.Contains(r.err, "wrote "+out) {
		t.Fatalf("export exit %d stdout %q stderr %q", r.code, r.out, r.err)
	}
	test, _ := data.LoadTest(dataDir)
	imgs := cifarFolder(t, test)
	r = runCLI(t, nil, "predict", "--checkpoint", best, "--output", "json", "--logits", "--top-k", "10", imgs)
	if r.code != 0 {
		t.Fatal(r.err)
	}
	type pred struct {
		Path string `json:"path"`
		Top  []struct {
			Class       string  `json:"class"`
			Probability float64 `json:"probability"`
		} `json:"top"`
		Logits []float64 `json:"logits"`
	}
	var preds []pred
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		var p pred
		json.Unmarshal([]byte(l), &p)
		preds = append(preds, p)
	}
	x := make([]float32, 0, len(preds)*data.CIFARGeometry.Size())
	for _, p := range preds {
		img, err := imaging.LoadFile(p.Path, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range img {
			x = append(x, float32(v)/255)
		}
	}
	m, err := gonnx.NewModelFromFile(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(gonnx.Tensors{"pixels": tensor.New(tensor.WithShape(len(preds), data.CIFARGeometry.Size()), tensor.WithBacking(x))})
	if err != nil {
		t.Fatal(err)
	}
	probs, logits := res["probabilities"].Data().([]float32), res["logits"].Data().([]float32)
	classes := data.DefaultClasses()
	worst, worstLogit := 0.0, 0.0
	for i, p := range preds {
		for _, c := range p.Top {
			j := indexOf(classes, c.Class)
			worst = math.Max(worst, math.Abs(float64(probs[i*10+j])-c.Probability))
		}
		if len(p.Logits) != len(classes) {
			t.Fatalf("%s: %d logits from predict --logits", p.Path, len(p.Logits))
		}
		for j, l := range p.Logits {
			worstLogit = math.Max(worstLogit, math.Abs(float64(logits[i*10+j])-l))
		}
	}
	t.Logf("ONNX (gonnx) vs lepton predict, %d images: max |p diff| = %.3g, max |logit diff| = %.3g", len(preds), worst, worstLogit)
	if worst >= 1e-5 || worstLogit >= 1e-5 {
		t.Errorf("probabilities differ by %g, logits by %g (want < 1e-5)", worst, worstLogit)
	}

	r = runCLI(t, nil, "export", "--checkpoint", best, "--format", "tflite", out)
	if r.code != exitUsage || !strings.Contains(r.err, `--format "tflite": want onnx`) {
		t.Errorf("bad format: exit %d %q", r.code, r.err)
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_lepton",
		"zsh":        "#compdef lepton",
		"fish":       "complete -c lepton",
		"powershell": "Register-ArgumentCompleter",
	} {
		r := runCLI(t, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.out, marker) || r.err != "" {
			t.Errorf("completion %s: exit %d, stdout lacks %q (%d bytes), stderr %q", shell, r.code, marker, len(r.out), r.err)
		}
	}
	r := runCLI(t, nil, "completion", "tcsh")
	if r.code != exitUsage || !strings.Contains(r.err, `unknown shell "tcsh"`) {
		t.Errorf("unknown shell: exit %d %q", r.code, r.err)
	}
	// Completion of a subcommand name through cobra's __complete hook.
	r = runCLI(t, nil, "__complete", "rep")
	if !strings.Contains(r.out, "report") {
		t.Errorf("__complete rep: %q", r.out)
	}
}

// TestHelpHasExamples walks every command: each --help shows examples.
func TestHelpHasExamples(t *testing.T) {
	root := newRootCmd(&streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, In: strings.NewReader(""), Getenv: os.Getenv, Environ: os.Environ})
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		n++
		path := strings.Fields(c.CommandPath())[1:]
		r := runCLI(t, nil, append(path, "--help")...)
		if r.code != 0 || !strings.Contains(r.out, "Examples:\n  ") {
			t.Errorf("%q --help: exit %d, no examples:\n%s", c.CommandPath(), r.code, r.out)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 15 {
		t.Errorf("walked %d commands", n)
	}
}

// TestNoColour checks that nothing lepton prints carries ANSI escapes,
// with and without NO_COLOR (TestNoColourOnATerminal does the same with
// the progress bar drawn on a terminal).
func TestNoColour(t *testing.T) {
	_, runDir := trainToy(t, t.TempDir(), "toy")
	best := filepath.Join(runDir, "checkpoints", "best.safetensors")
	for _, env := range []map[string]string{nil, {"NO_COLOR": "1"}} {
		for _, args := range [][]string{
			{"runs", filepath.Dir(runDir)},
			{"report", runDir},
			{"export", "--checkpoint", best, filepath.Join(t.TempDir(), "m.onnx")},
			{"eval", "--checkpoint", best, "--images", filepath.Join(t.TempDir(), "none")},
			{"predict", "--checkpoint", best, "nothing.png"},
			{"completion", "bash"},
			{"runs", "--help"},
		} {
			r := runCLI(t, env, args...)
			if strings.Contains(r.out+r.err, "\x1b[") {
				t.Errorf("%v (env %v) printed ANSI escapes", args, env)
			}
		}
	}
}
