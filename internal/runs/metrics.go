package runs

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/lepton-cli/lepton/internal/plot"
)

// Epoch is one row of metrics.csv.
type Epoch struct {
	Epoch     int
	TrainLoss float64
	TrainAcc  float64
	ValLoss   float64
	ValAcc    float64
	LR        float64
	Seconds   float64
}

// metricsColumns are the metrics.csv columns read, by header name; other
// columns are ignored and "seconds" may be missing.
var metricsColumns = []string{"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}

// ReadMetrics reads a run's metrics.csv (header
// epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds; columns are
// found by name). NaN and ±Inf values are kept.
func ReadMetrics(path string) ([]Epoch, error) {
	f, err := os.Open(path)
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

func parseMetrics(r io.Reader) ([]Epoch, error) {
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
	for _, name := range metricsColumns[:6] {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("no %q column in the header", name)
		}
	}
	var out []Epoch
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		var v [7]float64
		for i, name := range metricsColumns {
			j, ok := col[name]
			if !ok {
				continue
			}
			if v[i], err = strconv.ParseFloat(rec[j], 64); err != nil {
				return nil, fmt.Errorf("line %d: %s %q is not a number", line, name, rec[j])
			}
		}
		out = append(out, Epoch{Epoch: int(v[0]), TrainLoss: v[1], TrainAcc: v[2], ValLoss: v[3], ValAcc: v[4], LR: v[5], Seconds: v[6]})
	}
}

// PlotHistory converts a history for plot.Curves.
func PlotHistory(h []Epoch) []plot.Epoch {
	out := make([]plot.Epoch, len(h))
	for i, e := range h {
		out[i] = plot.Epoch{Epoch: e.Epoch, TrainLoss: e.TrainLoss, TrainAcc: e.TrainAcc, ValLoss: e.ValLoss, ValAcc: e.ValAcc, LR: e.LR}
	}
	return out
}
