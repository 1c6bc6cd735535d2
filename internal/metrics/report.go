package metrics

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// WriteText writes a human-readable report: the accuracy and top-k
// accuracy lines, a per-class table of precision, recall, F1 and support
// with macro and weighted average rows (laid out like scikit-learn's
// classification_report), then the confusion matrix with class names as
// row (true) and column (predicted) headers.
func (r Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	correct := 0
	for i := range r.ConfusionMatrix {
		if i < len(r.ConfusionMatrix[i]) {
			correct += r.ConfusionMatrix[i][i]
		}
	}
	fmt.Fprintf(&b, "accuracy: %.4f (%d/%d)\n", r.Accuracy, correct, r.Count)
	fmt.Fprintf(&b, "top-%d accuracy: %.4f\n\n", r.TopK, r.TopKAccuracy)

	nameW := utf8.RuneCountInString("weighted avg")
	for _, c := range r.Classes {
		nameW = max(nameW, utf8.RuneCountInString(c.Name))
	}
	const colW = 10
	fmt.Fprintf(&b, "%*s%*s%*s%*s%*s\n\n", nameW, "", colW, "precision", colW, "recall", colW, "f1-score", colW, "support")
	row := func(name string, p, rc, f1 float64, support int) {
		fmt.Fprintf(&b, "%*s%*.4f%*.4f%*.4f%*d\n", nameW, name, colW, p, colW, rc, colW, f1, colW, support)
	}
	for _, c := range r.Classes {
		row(c.Name, c.Precision, c.Recall, c.F1, c.Support)
	}
	b.WriteString("\n")
	row("macro avg", r.MacroAvg.Precision, r.MacroAvg.Recall, r.MacroAvg.F1, r.MacroAvg.Support)
	row("weighted avg", r.WeightedAvg.Precision, r.WeightedAvg.Recall, r.WeightedAvg.F1, r.WeightedAvg.Support)

	b.WriteString("\nconfusion matrix (rows: true class, columns: predicted class)\n")
	names := make([]string, len(r.ConfusionMatrix))
	rowW := 0
	cellW := make([]int, len(r.ConfusionMatrix))
	for i := range r.ConfusionMatrix {
		names[i] = strconv.Itoa(i)
		if i < len(r.Classes) {
			names[i] = r.Classes[i].Name
		}
		rowW = max(rowW, utf8.RuneCountInString(names[i]))
		cellW[i] = utf8.RuneCountInString(names[i])
	}
	for _, cells := range r.ConfusionMatrix {
		for j, c := range cells {
			if j < len(cellW) {
				cellW[j] = max(cellW[j], len(strconv.Itoa(c)))
			}
		}
	}
	b.WriteString(strings.Repeat(" ", rowW))
	for j, name := range names {
		fmt.Fprintf(&b, " %*s", cellW[j], name)
	}
	b.WriteString("\n")
	for i, cells := range r.ConfusionMatrix {
		fmt.Fprintf(&b, "%-*s", rowW, names[i])
		for j, c := range cells {
			width := 0
			if j < len(cellW) {
				width = cellW[j]
			}
			fmt.Fprintf(&b, " %*d", width, c)
		}
		b.WriteString("\n")
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

// WriteJSON writes the report as one indented JSON object followed by a
// newline.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Classes == nil {
		r.Classes = []ClassMetrics{}
	}
	if r.ConfusionMatrix == nil {
		r.ConfusionMatrix = [][]int{}
	}
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON report: %w", err)
	}
	out = append(out, '\n')
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}

// WriteCSV writes the report as CSV with the header
// class,precision,recall,f1,support, one row per class, then rows named
// macro_avg and weighted_avg, and an accuracy row that, as in
// scikit-learn's report, carries the accuracy in the f1 column and the
// sample count as support. Numbers use the shortest exact decimal form.
func (r Report) WriteCSV(w io.Writer) error {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	records := [][]string{{"class", "precision", "recall", "f1", "support"}}
	for _, c := range r.Classes {
		records = append(records, []string{c.Name, f(c.Precision), f(c.Recall), f(c.F1), strconv.Itoa(c.Support)})
	}
	for _, a := range []struct {
		name string
		avg  Average
	}{{"macro_avg", r.MacroAvg}, {"weighted_avg", r.WeightedAvg}} {
		records = append(records, []string{a.name, f(a.avg.Precision), f(a.avg.Recall), f(a.avg.F1), strconv.Itoa(a.avg.Support)})
	}
	records = append(records, []string{"accuracy", "", "", f(r.Accuracy), strconv.Itoa(r.Count)})
	if err := cw.WriteAll(records); err != nil {
		return fmt.Errorf("encode CSV report: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write CSV report: %w", err)
	}
	return nil
}
