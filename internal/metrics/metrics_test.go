package metrics

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// ranked returns scores for n classes that rank first, then second, then
// the rest in index order.
func ranked(n, first, second int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = -float32(i)
	}
	s[second] = 50
	s[first] = 100
	return s
}

// example is the hand-computed case used by several tests:
//
//	true: cat cat cat dog dog dog bird bird
//	pred: cat cat dog dog dog cat bird cat
//	2nd:  dog dog cat cat cat dog cat bird
func example() *Accumulator {
	a := NewAccumulator([]string{"cat", "dog", "bird"}, 2)
	for _, s := range []struct{ label, pred, second int }{
		{0, 0, 1}, {0, 0, 1}, {0, 1, 0},
		{1, 1, 0}, {1, 1, 0}, {1, 0, 1},
		{2, 2, 0}, {2, 0, 2},
	} {
		a.Add(s.label, ranked(3, s.pred, s.second))
	}
	return a
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-15 }

func TestReportHandComputed(t *testing.T) {
	r := example().Report()
	// Confusion [true][pred]: cat {2,1,0}, dog {1,2,0}, bird {1,0,1};
	// predicted totals cat 4, dog 3, bird 1.
	wantCM := [][]int{{2, 1, 0}, {1, 2, 0}, {1, 0, 1}}
	if !reflect.DeepEqual(r.ConfusionMatrix, wantCM) {
		t.Fatalf("confusion matrix %v, want %v", r.ConfusionMatrix, wantCM)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{name: "accuracy", got: r.Accuracy, want: 5.0 / 8},
		{name: "top-2 accuracy", got: r.TopKAccuracy, want: 1},
		{name: "cat precision", got: r.Classes[0].Precision, want: 2.0 / 4},
		{name: "cat recall", got: r.Classes[0].Recall, want: 2.0 / 3},
		{name: "cat f1", got: r.Classes[0].F1, want: 4.0 / 7},
		{name: "dog precision", got: r.Classes[1].Precision, want: 2.0 / 3},
		{name: "dog recall", got: r.Classes[1].Recall, want: 2.0 / 3},
		{name: "dog f1", got: r.Classes[1].F1, want: 2.0 / 3},
		{name: "bird precision", got: r.Classes[2].Precision, want: 1},
		{name: "bird recall", got: r.Classes[2].Recall, want: 1.0 / 2},
		{name: "bird f1", got: r.Classes[2].F1, want: 2.0 / 3},
		{name: "macro precision", got: r.MacroAvg.Precision, want: 13.0 / 18},
		{name: "macro recall", got: r.MacroAvg.Recall, want: 11.0 / 18},
		{name: "macro f1", got: r.MacroAvg.F1, want: 40.0 / 63},
		{name: "weighted precision", got: r.WeightedAvg.Precision, want: 11.0 / 16},
		{name: "weighted recall", got: r.WeightedAvg.Recall, want: 5.0 / 8},
		{name: "weighted f1", got: r.WeightedAvg.F1, want: 53.0 / 84},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if !near(c.got, c.want) {
				t.Errorf("got %.17g, want %.17g", c.got, c.want)
			}
		})
	}
	ints := []struct {
		name      string
		got, want int
	}{
		{name: "count", got: r.Count, want: 8},
		{name: "top k", got: r.TopK, want: 2},
		{name: "cat support", got: r.Classes[0].Support, want: 3},
		{name: "dog support", got: r.Classes[1].Support, want: 3},
		{name: "bird support", got: r.Classes[2].Support, want: 2},
		{name: "macro support", got: r.MacroAvg.Support, want: 8},
		{name: "weighted support", got: r.WeightedAvg.Support, want: 8},
	}
	for _, c := range ints {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %d, want %d", c.got, c.want)
			}
		})
	}
	if names := []string{r.Classes[0].Name, r.Classes[1].Name, r.Classes[2].Name}; !reflect.DeepEqual(names, []string{"cat", "dog", "bird"}) {
		t.Errorf("class names %v", names)
	}
}

func TestAddPredictionAndTopK(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name     string
		label    int
		scores   []float32
		k        int
		wantPred int
		wantHit  bool
	}{
		{name: "clear winner", label: 1, scores: []float32{0.1, 0.7, 0.2}, k: 1, wantPred: 1, wantHit: true},
		{name: "all tied picks lowest index", label: 0, scores: []float32{5, 5, 5}, k: 1, wantPred: 0, wantHit: true},
		{name: "all tied, label last, misses top-2", label: 2, scores: []float32{5, 5, 5}, k: 2, wantPred: 0, wantHit: false},
		{name: "all tied, label second, hits top-2", label: 1, scores: []float32{5, 5, 5}, k: 2, wantPred: 0, wantHit: true},
		{name: "tie for first, lower index wins", label: 2, scores: []float32{1, 3, 3}, k: 1, wantPred: 1, wantHit: false},
		{name: "tie for first, top-2 hit", label: 2, scores: []float32{1, 3, 3}, k: 2, wantPred: 1, wantHit: true},
		{name: "third best misses top-2", label: 0, scores: []float32{1, 2, 3}, k: 2, wantPred: 2, wantHit: false},
		{name: "third best hits top-3", label: 0, scores: []float32{1, 2, 3}, k: 3, wantPred: 2, wantHit: true},
		{name: "negative logits", label: 2, scores: []float32{-9, -3, -1}, k: 1, wantPred: 2, wantHit: true},
		{name: "NaN ranks lowest", label: 1, scores: []float32{nan, -1, -2}, k: 1, wantPred: 1, wantHit: true},
		{name: "NaN label misses", label: 0, scores: []float32{nan, -1, -2}, k: 2, wantPred: 1, wantHit: false},
		{name: "infinity wins", label: 2, scores: []float32{1, 2, inf}, k: 1, wantPred: 2, wantHit: true},
		{name: "k above class count clamps", label: 0, scores: []float32{1, 2, 3}, k: 10, wantPred: 2, wantHit: true},
		{name: "k zero means one", label: 1, scores: []float32{1, 2, 0}, k: 0, wantPred: 1, wantHit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator([]string{"a", "b", "c"}, tt.k)
			a.Add(tt.label, tt.scores)
			if err := a.Err(); err != nil {
				t.Fatalf("Err: %v", err)
			}
			r := a.Report()
			if got := r.ConfusionMatrix[tt.label][tt.wantPred]; got != 1 {
				t.Errorf("confusion[%d][%d] = %d, want 1 (matrix %v)", tt.label, tt.wantPred, got, r.ConfusionMatrix)
			}
			wantTop := 0.0
			if tt.wantHit {
				wantTop = 1
			}
			if r.TopKAccuracy != wantTop {
				t.Errorf("top-%d accuracy %v, want %v", r.TopK, r.TopKAccuracy, wantTop)
			}
			if r.TopK < 1 || r.TopK > 3 {
				t.Errorf("TopK = %d, want within [1, 3]", r.TopK)
			}
		})
	}
}

func TestReportExtremes(t *testing.T) {
	classes := []string{"a", "b", "c", "d"}
	tests := []struct {
		name   string
		pairs  [][2]int // label, prediction
		wantPR float64  // every class's precision, recall and F1
		wantAc float64
	}{
		{name: "perfect", pairs: [][2]int{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {1, 1}}, wantPR: 1, wantAc: 1},
		{name: "all wrong", pairs: [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 0}, {1, 0}}, wantPR: 0, wantAc: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator(classes, 1)
			for _, p := range tt.pairs {
				a.Add(p[0], ranked(len(classes), p[1], (p[1]+1)%len(classes)))
			}
			r := a.Report()
			if r.Accuracy != tt.wantAc || r.Count != len(tt.pairs) {
				t.Errorf("accuracy %v count %d, want %v %d", r.Accuracy, r.Count, tt.wantAc, len(tt.pairs))
			}
			for _, c := range r.Classes {
				if c.Precision != tt.wantPR || c.Recall != tt.wantPR || c.F1 != tt.wantPR {
					t.Errorf("class %s = %+v, want all %v", c.Name, c, tt.wantPR)
				}
			}
			for _, avg := range []Average{r.MacroAvg, r.WeightedAvg} {
				if avg.Precision != tt.wantPR || avg.Recall != tt.wantPR || avg.F1 != tt.wantPR || avg.Support != len(tt.pairs) {
					t.Errorf("average %+v, want all %v", avg, tt.wantPR)
				}
			}
			if err := r.WriteJSON(&bytes.Buffer{}); err != nil {
				t.Errorf("WriteJSON: %v", err)
			}
		})
	}
}

func TestReportZeroDivision(t *testing.T) {
	tests := []struct {
		name  string
		setup func(a *Accumulator)
		class int
		want  ClassMetrics
	}{
		{
			name:  "class never predicted nor present",
			setup: func(a *Accumulator) { a.Add(0, []float32{1, 0, 0}) },
			class: 2,
			want:  ClassMetrics{Name: "z"},
		},
		{
			name:  "class present but never predicted",
			setup: func(a *Accumulator) { a.Add(1, []float32{1, 0, 0}) },
			class: 1,
			want:  ClassMetrics{Name: "y", Support: 1},
		},
		{
			name:  "class predicted but never present",
			setup: func(a *Accumulator) { a.Add(1, []float32{1, 0, 0}) },
			class: 0,
			want:  ClassMetrics{Name: "x"},
		},
		{
			name:  "no samples",
			setup: func(a *Accumulator) {},
			class: 0,
			want:  ClassMetrics{Name: "x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator([]string{"x", "y", "z"}, 1)
			tt.setup(a)
			r := a.Report()
			if got := r.Classes[tt.class]; got != tt.want {
				t.Errorf("class metrics %+v, want %+v", got, tt.want)
			}
			for _, v := range []float64{r.Accuracy, r.TopKAccuracy, r.MacroAvg.Precision, r.MacroAvg.F1, r.WeightedAvg.Recall, r.WeightedAvg.F1} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("non-finite metric in %+v", r)
				}
			}
		})
	}
}

func TestAddInvalid(t *testing.T) {
	tests := []struct {
		name    string
		label   int
		scores  []float32
		wantMsg string
	}{
		{name: "too few scores", label: 0, scores: []float32{1}, wantMsg: "add sample 1: got 1 scores for 2 classes"},
		{name: "negative label", label: -1, scores: []float32{1, 2}, wantMsg: "add sample 1: label -1 out of range [0, 2)"},
		{name: "label too large", label: 2, scores: []float32{1, 2}, wantMsg: "add sample 1: label 2 out of range [0, 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccumulator([]string{"a", "b"}, 1)
			a.Add(1, []float32{0, 1})
			a.Add(tt.label, tt.scores)
			a.Add(0, []float32{1}) // a later mistake does not replace the first
			if err := a.Err(); err == nil || err.Error() != tt.wantMsg {
				t.Fatalf("Err = %v, want %q", err, tt.wantMsg)
			}
			if r := a.Report(); r.Count != 1 || r.Accuracy != 1 {
				t.Errorf("invalid samples were recorded: count %d accuracy %v", r.Count, r.Accuracy)
			}
		})
	}
}

func TestReportIsSnapshot(t *testing.T) {
	a := example()
	r := a.Report()
	a.Add(0, ranked(3, 0, 1))
	if r.Count != 8 || r.ConfusionMatrix[0][0] != 2 {
		t.Fatalf("earlier report changed after Add: count %d, cm[0][0] %d", r.Count, r.ConfusionMatrix[0][0])
	}
	if r2 := a.Report(); r2.Count != 9 || r2.ConfusionMatrix[0][0] != 3 {
		t.Fatalf("later report count %d, cm[0][0] %d, want 9 and 3", r2.Count, r2.ConfusionMatrix[0][0])
	}
}

func TestWriteGolden(t *testing.T) {
	reports := []struct {
		name   string
		report Report
	}{
		{name: "example", report: example().Report()},
		{name: "empty", report: NewAccumulator([]string{"airplane", "automobile"}, 5).Report()},
	}
	writers := []struct {
		ext   string
		write func(Report, *bytes.Buffer) error
	}{
		{ext: "txt", write: func(r Report, b *bytes.Buffer) error { return r.WriteText(b) }},
		{ext: "json", write: func(r Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
		{ext: "csv", write: func(r Report, b *bytes.Buffer) error { return r.WriteCSV(b) }},
	}
	for _, rep := range reports {
		for _, wr := range writers {
			t.Run(rep.name+"."+wr.ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := wr.write(rep.report, &buf); err != nil {
					t.Fatalf("write: %v", err)
				}
				path := filepath.Join("testdata", rep.name+"."+wr.ext)
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatalf("update golden: %v", err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("read golden (run with -update to create): %v", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("output differs from %s (run with -update to accept)\n--- got\n%s\n--- want\n%s", path, buf.Bytes(), want)
				}
			})
		}
	}
}

func TestWriteJSONRoundTrip(t *testing.T) {
	want := example().Report()
	var buf bytes.Buffer
	if err := want.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) {
		t.Errorf("JSON does not end in a newline: %q", buf.String())
	}
	var got Report
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip mismatch:\n got %+v\nwant %+v", got, want)
	}
}

func TestWriteCSVParses(t *testing.T) {
	r := NewAccumulator([]string{`comma, "quoted"`, "plain"}, 1)
	r.Add(0, []float32{1, 0})
	var buf bytes.Buffer
	if err := r.Report().WriteCSV(&buf); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	var first []string
	for _, rec := range recs {
		first = append(first, rec[0])
	}
	want := []string{"class", `comma, "quoted"`, "plain", "macro_avg", "weighted_avg", "accuracy"}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("first column %q, want %q", first, want)
	}
	if got := recs[len(recs)-1]; !reflect.DeepEqual(got, []string{"accuracy", "", "", "1", "1"}) {
		t.Errorf("accuracy row %q", got)
	}
}

type failWriter struct{}

var errDisk = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWritersReportErrors(t *testing.T) {
	r := example().Report()
	tests := []struct {
		name   string
		write  func() error
		prefix string
	}{
		{name: "text", write: func() error { return r.WriteText(failWriter{}) }, prefix: "write text report: "},
		{name: "json", write: func() error { return r.WriteJSON(failWriter{}) }, prefix: "write JSON report: "},
		{name: "csv", write: func() error { return r.WriteCSV(failWriter{}) }, prefix: "write CSV report: "},
		{name: "json NaN", write: func() error {
			bad := r
			bad.Accuracy = math.NaN()
			return bad.WriteJSON(&bytes.Buffer{})
		}, prefix: "encode JSON report: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.write()
			if err == nil || !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Fatalf("error %v, want prefix %q", err, tt.prefix)
			}
			if tt.name != "json NaN" && !errors.Is(err, errDisk) {
				t.Errorf("error %v does not wrap the writer's error", err)
			}
		})
	}
}

// TestMacroAverageLeavesOutAbsentClasses follows scikit-learn: the macro
// average is over the classes among the labels or the predictions
// (sklearn.metrics.classification_report with labels=None). A class that
// occurs in neither ("bird", "fish") no longer pulls it towards 0; a class
// that is only predicted ("fish" in the second case) counts, with
// precision, recall and F1 0.
func TestMacroAverageLeavesOutAbsentClasses(t *testing.T) {
	tests := []struct {
		name          string
		classes       []string
		labels, preds []int
		p, r, f1      float64
	}{
		{name: "the example with an absent fourth class", classes: []string{"cat", "dog", "bird", "fish"},
			labels: []int{0, 0, 0, 1, 1, 1, 2, 2}, preds: []int{0, 0, 1, 1, 1, 0, 2, 0},
			p: 13.0 / 18, r: 11.0 / 18, f1: 40.0 / 63},
		// true: cat cat dog; pred: cat fish dog. cat P 1 R 1/2 F1 2/3; dog
		// 1 1 1; fish (predicted only) 0 0 0; bird absent.
		{name: "predicted-only class counts, absent one does not", classes: []string{"cat", "dog", "bird", "fish"},
			labels: []int{0, 0, 1}, preds: []int{0, 3, 1},
			p: 2.0 / 3, r: 1.0 / 2, f1: 5.0 / 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAccumulator(tc.classes, 1)
			for i, l := range tc.labels {
				s := make([]float32, len(tc.classes))
				s[tc.preds[i]] = 1
				a.Add(l, s)
			}
			m := a.Report().MacroAvg
			if !near(m.Precision, tc.p) || !near(m.Recall, tc.r) || !near(m.F1, tc.f1) {
				t.Fatalf("macro P %v R %v F1 %v, want %v %v %v", m.Precision, m.Recall, m.F1, tc.p, tc.r, tc.f1)
			}
			if len(a.Report().Classes) != len(tc.classes) {
				t.Fatal("per-class rows dropped")
			}
		})
	}
}
