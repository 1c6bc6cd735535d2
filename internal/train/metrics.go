package train

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// MetricsHeader is the header row of metrics.csv.
var MetricsHeader = []string{"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}

// MetricsCSV rewrites Path atomically with the whole history after every epoch.
type MetricsCSV struct {
	Hooks
	Path string
}

// EpochEnd implements Listener.
func (m *MetricsCSV) EpochEnd(l *Loop, _ EpochEvent) error {
	return atomicfile.Write(m.Path, 0o644, func(w io.Writer) error {
		return WriteMetricsCSV(w, l.History)
	})
}

// WriteMetricsCSV writes the metrics.csv form of a history.
func WriteMetricsCSV(w io.Writer, history []EpochMetrics) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(MetricsHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, m := range history {
		row := []string{strconv.Itoa(m.Epoch), f(m.TrainLoss), f(m.TrainAcc), f(m.ValLoss), f(m.ValAcc), f(m.LR), strconv.FormatFloat(m.Seconds, 'f', 3, 64)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadMetrics reads a run's metrics.csv (header
// epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds; columns are
// found by name). NaN and ±Inf values are kept.
func ReadMetrics(path string) ([]EpochMetrics, error) {
	f, err := regularfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := parseMetrics(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

func parseMetrics(r io.Reader) ([]EpochMetrics, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for _, name := range MetricsHeader[:6] {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("no %q column in the header", name)
		}
	}
	var out []EpochMetrics
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v [7]float64
		for i, name := range MetricsHeader {
			j, ok := col[name]
			if !ok {
				continue
			}
			if v[i], err = strconv.ParseFloat(rec[j], 64); err != nil {
				return nil, fmt.Errorf("line %d: %s %q is not a number", line, name, rec[j])
			}
		}
		out = append(out, EpochMetrics{Epoch: int(v[0]), TrainLoss: v[1], TrainAcc: v[2], ValLoss: v[3], ValAcc: v[4], LR: v[5], Seconds: v[6]})
	}
}

// PlotHistory converts a history for plot.Curves.
func PlotHistory(h []EpochMetrics) []plot.Epoch {
	out := make([]plot.Epoch, len(h))
	for i, m := range h {
		out[i] = plot.Epoch{Epoch: m.Epoch, TrainLoss: m.TrainLoss, TrainAcc: m.TrainAcc, ValLoss: m.ValLoss, ValAcc: m.ValAcc, LR: m.LR}
	}
	return out
}

// RestoreSeconds puts the per-epoch seconds recorded in the metrics.csv at
// path back into a history restored from a checkpoint (checkpoints leave
// wall-clock time out). A missing or unreadable file changes nothing.
func RestoreSeconds(path string, history []EpochMetrics) {
	rows, err := ReadMetrics(path)
	if err != nil {
		return
	}
	for _, r := range rows {
		if r.Epoch >= 1 && r.Epoch <= len(history) {
			history[r.Epoch-1].Seconds = r.Seconds
		}
	}
}
