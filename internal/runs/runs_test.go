package runs

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/rundir"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// fixture describes a run directory to lay out.
type fixture struct {
	name    string
	config  string // config.yaml's name; "" writes no config.yaml
	epochs  int    // metrics.csv rows; 0 writes no metrics.csv
	report  string // report.json content; "" writes none
	lock    string // .lock content; "" writes none
	held    bool   // this process holds the run's lock (a live trainer)
	seconds float64
	data    string // config.yaml's data section (YAML); "" writes none
}

// withData adds report.json's data object to a report.
func withData(report string, d map[string]any) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(report), &m); err != nil {
		panic(err)
	}
	m["data"] = d
	b, _ := json.Marshal(m)
	return string(b)
}

func metricsCSV(epochs int, seconds float64) string {
	var b strings.Builder
	b.WriteString("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n")
	for e := 1; e <= epochs; e++ {
		val := 0.3 + 0.05*float64(e)
		if e == epochs && epochs > 2 {
			val -= 0.08 // the last epoch is not the best
		}
		fmt.Fprintf(&b, "%d,%g,%g,%g,%g,%g,%.3f\n", e, 2.0/float64(e), 0.25+0.06*float64(e), 1.9/float64(e)+0.1, val, 0.001, seconds)
	}
	return b.String()
}

func reportJSON(name, status string, epochs, bestEpoch int, bestVal, testAcc, seconds float64) string {
	rep := map[string]any{
		"name": name, "epochs": epochs, "best_epoch": bestEpoch, "best_val_acc": bestVal,
		"train_seconds": seconds, "test_loss": 1.25,
		"test": metrics.Report{
			Accuracy: testAcc, TopK: 3, TopKAccuracy: 0.8, Count: 20,
			Classes:         []metrics.ClassMetrics{{Name: "cat", Support: 10}, {Name: "dog", Support: 10}},
			ConfusionMatrix: [][]int{{7, 3}, {4, 6}},
		},
	}
	if status != "" {
		rep["status"] = status
	}
	if testAcc < 0 { // failed before testing
		rep["test"] = metrics.Report{}
	}
	b, _ := json.Marshal(rep)
	return string(b)
}

// deadPID returns the ID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func layout(t *testing.T, fixtures []fixture) string {
	t.Helper()
	parent := filepath.Join(t.TempDir(), "runs")
	for _, f := range fixtures {
		dir := filepath.Join(parent, f.name)
		if err := os.MkdirAll(filepath.Join(dir, "checkpoints"), 0o755); err != nil {
			t.Fatal(err)
		}
		write := func(name, body string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if f.config != "" {
			write("config.yaml", "name: "+f.config+"\nseed: 1\n"+f.data+"model:\n  hidden: [8]\n")
		}
		if f.epochs > 0 {
			write("metrics.csv", metricsCSV(f.epochs, f.seconds))
		}
		if f.report != "" {
			write("report.json", f.report)
		}
		if f.lock != "" {
			write(".lock", f.lock)
		}
		if f.held {
			l, err := rundir.Acquire(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Release() })
		}
	}
	os.MkdirAll(filepath.Join(parent, "not-a-run", "stuff"), 0o755)
	os.WriteFile(filepath.Join(parent, "notes.txt"), []byte("x"), 0o644)
	return parent
}

func standardRuns(t *testing.T) string {
	return layout(t, []fixture{
		{name: "mlp-20261126-120000", config: "mlp", epochs: 10, seconds: 12, report: reportJSON("mlp", "finished", 10, 9, 0.75, 0.7412, 120)},
		{name: "wide-20261126-130000", config: "wide", epochs: 4, seconds: 30, report: reportJSON("wide", "interrupted", 4, 3, 0.45, 0.4377, 120)},
		{name: "tanh-20261126-140000", config: "tanh", epochs: 2, seconds: 6, report: reportJSON("tanh", "failed", 2, 2, 0.40, -1, 12)},
		{name: "old-report", config: "mlp", epochs: 3, seconds: 20, report: reportJSON("mlp", "", 3, 2, 0.40, 0.39, 60)},
		{name: "crashed", config: "deep", epochs: 5, seconds: 60},
		{name: "live", config: "mlp", epochs: 1, seconds: 15, held: true},
		{name: "stale-lock", config: "mlp", lock: fmt.Sprintf("%d\n", deadPID(t))},
		{name: "broken", config: "mlp", epochs: 2, seconds: 3, report: "{not json"},
	})
}

func TestListFormats(t *testing.T) {
	parent := standardRuns(t)
	runs, warnings, err := List(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0].Error(), filepath.Join(parent, "broken", "report.json")) {
		t.Errorf("warnings %v, want one naming broken/report.json", warnings)
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, runs, format); err != nil {
				t.Fatal(err)
			}
			golden(t, "list."+format, bytes.ReplaceAll(b.Bytes(), []byte(parent), []byte("RUNS")))
		})
	}
}

func TestStatus(t *testing.T) {
	runs, _, err := List(standardRuns(t))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"mlp-20261126-120000": Finished, "wide-20261126-130000": Interrupted, "tanh-20261126-140000": Failed,
		"old-report": Finished, "crashed": Incomplete, "live": Running, "stale-lock": Incomplete, "broken": Unreadable,
	}
	if len(runs) != len(want) {
		t.Errorf("%d runs listed, want %d (non-run directories skipped)", len(runs), len(want))
	}
	for _, r := range runs {
		if r.Status != want[r.Name] {
			t.Errorf("%s: status %q, want %q", r.Name, r.Status, want[r.Name])
		}
	}
}

func TestSort(t *testing.T) {
	runs, _, err := List(standardRuns(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		column  string
		reverse bool
		want    string
	}{
		{"name", false, "broken crashed live mlp-20261126-120000 old-report stale-lock tanh-20261126-140000 wide-20261126-130000"},
		{"name", true, "wide-20261126-130000 tanh-20261126-140000 stale-lock old-report mlp-20261126-120000 live crashed broken"},
		// unknown test accuracies last either way; the failed run's report has none
		{"test_acc", true, "mlp-20261126-120000 wide-20261126-130000 old-report broken crashed live stale-lock tanh-20261126-140000"},
		{"test_acc", false, "old-report wide-20261126-130000 mlp-20261126-120000 broken crashed live stale-lock tanh-20261126-140000"},
		{"best_val_acc", true, "mlp-20261126-120000 crashed wide-20261126-130000 broken old-report tanh-20261126-140000 live stale-lock"},
		{"epochs", false, "stale-lock live broken tanh-20261126-140000 old-report wide-20261126-130000 crashed mlp-20261126-120000"},
		{"minutes", true, "crashed mlp-20261126-120000 wide-20261126-130000 old-report live tanh-20261126-140000 broken stale-lock"},
		{"config", false, "crashed broken live mlp-20261126-120000 old-report stale-lock tanh-20261126-140000 wide-20261126-130000"},
		{"status", false, "tanh-20261126-140000 mlp-20261126-120000 old-report crashed stale-lock wide-20261126-130000 live broken"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s reverse=%v", tc.column, tc.reverse), func(t *testing.T) {
			rs := append([]Run(nil), runs...)
			if err := Sort(rs, tc.column, tc.reverse); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range rs {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if err := Sort(runs, "accuracy", false); err == nil || !strings.Contains(err.Error(), "want one of name, config, data, epochs, best_val_acc, test_acc, minutes, status") {
		t.Errorf("unknown column: %v", err)
	}
}

func TestListErrors(t *testing.T) {
	_, _, err := List(filepath.Join(t.TempDir(), "nothing"))
	if err == nil || !strings.Contains(err.Error(), "nothing") || !strings.Contains(err.Error(), "lepton train") {
		t.Errorf("missing dir: %v", err)
	}
	var b bytes.Buffer
	if err := Write(&b, nil, "json"); err != nil || b.String() != "[]\n" {
		t.Errorf("empty JSON list: %q %v", b.String(), err)
	}
	if err := Write(&b, nil, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestSummarize(t *testing.T) {
	parent := standardRuns(t)
	tests := []struct{ run, golden string }{
		{"mlp-20261126-120000", "summary-finished.txt"},
		{"crashed", "summary-incomplete.txt"},
		{"stale-lock", "summary-empty.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.run, func(t *testing.T) {
			dir := filepath.Join(parent, tc.run)
			s, err := Summarize(dir)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := s.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, bytes.ReplaceAll(b.Bytes(), []byte(parent), []byte("RUNS")))
			for _, f := range []string{s.Curves, s.Confusion} {
				if f == "" {
					continue
				}
				fh, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := png.Decode(fh); err != nil {
					t.Errorf("%s: %v", f, err)
				}
				fh.Close()
			}
		})
	}
	s, _ := Summarize(filepath.Join(parent, "mlp-20261126-120000"))
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || got["test_acc"] != 0.7412 || got["curves"] == nil || got["confusion"] == nil {
		t.Errorf("JSON summary %s (%v)", b.String(), err)
	}

	if _, err := Summarize(filepath.Join(parent, "broken")); err == nil || !strings.Contains(err.Error(), "report.json") {
		t.Errorf("broken run: %v", err)
	}
	if _, err := Summarize(filepath.Join(parent, "not-a-run")); err == nil || !strings.Contains(err.Error(), "is not a run directory") {
		t.Errorf("not a run: %v", err)
	}
}

// TestDataColumn checks the data column: from report.json when it says,
// else from config.yaml's data section, CIFAR-10 for configs from before
// data.dataset, "-" when nothing says.
func TestDataColumn(t *testing.T) {
	parent := layout(t, []fixture{
		{name: "catdog", config: "folder", epochs: 2, seconds: 5, data: "data:\n  dataset: folder\n  dir: /photos/catdog/\n",
			report: withData(reportJSON("folder", "finished", 2, 2, 0.8, 0.75, 10),
				map[string]any{"kind": "folder", "location": "/photos/catdog", "geometry": map[string]int{"height": 64, "width": 64, "channels": 3},
					"classes": []string{"cat", "dog"}, "skipped": []map[string]string{{"path": "/photos/catdog/cat/broken.jpg", "reason": "unexpected EOF"}}})},
		{name: "digits", config: "mnist", epochs: 1, seconds: 4, data: "data:\n  dataset: mnist\n"},
		{name: "old", config: "mlp", epochs: 1, seconds: 4},
		{name: "bare", epochs: 1, seconds: 4},
	})
	runs, _, err := List(parent)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range runs {
		got[r.Name] = r.Data
	}
	want := map[string]string{"catdog": "folder:catdog", "digits": "mnist", "old": "cifar10", "bare": ""}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("data column %v, want %v", got, want)
	}
	if err := Sort(runs, "data", false); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range runs {
		order = append(order, r.Name)
	}
	if strings.Join(order, " ") != "bare old catdog digits" {
		t.Errorf("sorted by data: %v", order)
	}
	var b bytes.Buffer
	if err := Write(&b, runs, "text"); err != nil {
		t.Fatal(err)
	}
	golden(t, "list-data.text", b.Bytes())
	s, err := Summarize(filepath.Join(parent, "catdog"))
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary-folder.txt", bytes.ReplaceAll(b.Bytes(), []byte(parent), []byte("RUNS")))
}
