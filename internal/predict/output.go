package predict

// Writing results: the top classes of each input as text, CSV or JSON.

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/lepton-cli/lepton/internal/model"
)

// Top returns the k most probable classes of a row of logits, most
// probable first (ties keep class order): the "top" of a Result.
func Top(classes []string, logits []float32, k int) []Class {
	p := model.Softmax(logits)
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	out := make([]Class, k)
	for i := range out {
		out[i] = Class{Class: classes[idx[i]], Probability: p[idx[i]]}
	}
	return out
}

// writer writes results in one output format.
type writer struct {
	format  string
	w       *bufio.Writer
	csv     *csv.Writer
	classes []string
	k       int
	logits  bool
}

func newWriter(w io.Writer, format string, classes []string, k int, logits bool) (*writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	wr := &writer{format: format, w: bw, classes: classes, k: k, logits: logits}
	if format == "csv" {
		wr.csv = csv.NewWriter(bw)
		if err := wr.csv.Write(CSVHeader(classes, k, logits)); err != nil {
			return nil, fmt.Errorf("write prediction: %w", err)
		}
	}
	return wr, nil
}

// CSVHeader returns the header row of CSV output for top-k predictions
// over classes: path,class,probability,class_2,probability_2,...,
// [logit_<class>,...,]error.
func CSVHeader(classes []string, k int, logits bool) []string {
	h := []string{"path", "class", "probability"}
	for i := 2; i <= k; i++ {
		h = append(h, "class_"+strconv.Itoa(i), "probability_"+strconv.Itoa(i))
	}
	if logits {
		for _, c := range classes {
			h = append(h, "logit_"+c)
		}
	}
	return append(h, "error")
}

func (w *writer) write(r Result) error {
	switch w.format {
	case "json":
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = w.w.Write(b)
		return err
	case "csv":
		row := []string{r.Path}
		for i := range w.k {
			if i < len(r.Top) {
				row = append(row, r.Top[i].Class, strconv.FormatFloat(r.Top[i].Probability, 'g', -1, 64))
			} else {
				row = append(row, "", "")
			}
		}
		if w.logits {
			for i := range w.classes {
				if i < len(r.Logits) {
					row = append(row, strconv.FormatFloat(float64(r.Logits[i]), 'g', -1, 32))
				} else {
					row = append(row, "")
				}
			}
		}
		return w.csv.Write(append(row, r.Error))
	}
	if r.Error != "" {
		return nil
	}
	line := r.Path
	for _, c := range r.Top {
		line += fmt.Sprintf("\t%s %.4f", c.Class, c.Probability)
	}
	_, err := fmt.Fprintln(w.w, line)
	return err
}

func (w *writer) flush() error {
	if w.csv != nil {
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
			return err
		}
	}
	return w.w.Flush()
}
