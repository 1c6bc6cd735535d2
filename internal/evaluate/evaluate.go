// Package evaluate measures a checkpoint on the CIFAR-10 test set: the
// logic behind "lepton eval".
package evaluate

import (
	"context"
	"fmt"
	"io"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/metrics"
)

// Formats lists the output formats of Run.
var Formats = []string{"text", "json", "csv"}

// Options configure an evaluation.
type Options struct {
	Checkpoint string
	DataDir    string
	Output     string // text, json or csv
	TopK       int    // k of the top-k accuracy (default 3)
	Stdout     io.Writer
}

// Run evaluates opts.Checkpoint on the test set and writes the report to Stdout.
func Run(ctx context.Context, opts Options) (*metrics.Report, error) {
	write, err := writer(opts.Output)
	if err != nil {
		return nil, err
	}
	m, _, err := classifier.Load(opts.Checkpoint)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	test, err := data.LoadTest(opts.DataDir)
	if err != nil {
		return nil, err
	}
	k := opts.TopK
	if k <= 0 {
		k = 3
	}
	res, err := m.Evaluate(ctx, test, k)
	if err != nil {
		return nil, err
	}
	if err := write(res.Report, opts.Stdout); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return &res.Report, nil
}

func writer(format string) (func(metrics.Report, io.Writer) error, error) {
	switch format {
	case "", "text":
		return metrics.Report.WriteText, nil
	case "json":
		return metrics.Report.WriteJSON, nil
	case "csv":
		return metrics.Report.WriteCSV, nil
	}
	return nil, fmt.Errorf("--output %q: want one of text, json, csv", format)
}
