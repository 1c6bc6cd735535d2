package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Options configure a training run.
type Options struct {
	Config      *config.Config
	DataDir     string // resolved data location (directory or archive)
	OutDir      string // run directory; empty: <output.dir>/<name>-<UTC timestamp>
	Force       bool   // overwrite a finished run in OutDir
	Stderr      io.Writer
	Interactive bool // show a progress bar (stderr is a terminal and not --quiet)
	Quiet       bool // no per-epoch lines either
	Now         func() time.Time
	Listeners   []Listener // extra listeners, after the built-in ones
}

// Report is the content of report.json.
type Report struct {
	Name            string         `json:"name"`
	Test            metrics.Report `json:"test"`
	TestLoss        float64        `json:"test_loss"`
	Epochs          int            `json:"epochs"`
	BestEpoch       int            `json:"best_epoch"`
	BestValAcc      float64        `json:"best_val_acc"`
	TrainSeconds    float64        `json:"train_seconds"`
	SecondsPerEpoch float64        `json:"seconds_per_epoch"`
	TrainImages     int            `json:"train_images"`
	ValImages       int            `json:"val_images"`
	Parameters      int            `json:"parameters"`
	History         []EpochMetrics `json:"history"`
	Checkpoint      string         `json:"checkpoint"`
	Status          string         `json:"status"`
}

// Run trains a model as opts say and returns its run directory. The run
// directory holds config.yaml, checkpoints/last and best, metrics.csv and,
// once training finished, report.json with the best checkpoint's test metrics.
func Run(ctx context.Context, opts Options) (string, error) {
	cfg := opts.Config
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	trainAll, err := data.LoadTrain(opts.DataDir)
	if err != nil {
		return "", err
	}
	test, err := data.LoadTest(opts.DataDir)
	if err != nil {
		return "", err
	}
	if len(trainAll.Classes) != cfg.Model.Classes {
		return "", fmt.Errorf("model.classes is %d but the data has %d classes", cfg.Model.Classes, len(trainAll.Classes))
	}
	if cfg.Model.Input != data.ImageSize {
		return "", fmt.Errorf("model.input is %d but the images have %d values", cfg.Model.Input, data.ImageSize)
	}
	trIdx, valIdx := data.StratifiedSplit(trainAll.Labels, cfg.Data.ValSplit, cfg.Seed)
	trainSet, valSet := trainAll.Subset(trIdx), trainAll.Subset(valIdx)
	stats := data.ComputeStats(trainSet)

	dir := opts.OutDir
	if dir == "" {
		dir = filepath.Join(cfg.Output.Dir, rundir.DefaultName(cfg.Name, now()))
	}
	if err := rundir.Create(dir, opts.Force); err != nil {
		return "", err
	}
	y, err := cfg.YAML()
	if err != nil {
		return "", fmt.Errorf("encode config: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, rundir.ConfigFile), y, 0o644); err != nil {
		return "", err
	}

	spec := classifier.SpecOf(cfg.Model)
	params, err := model.NewParams(spec, cfg.Seed)
	if err != nil {
		return "", err
	}
	m := classifier.New(cfg, params, stats, trainAll.Classes)
	loop, err := NewLoop(cfg, m, trainSet, valSet)
	if err != nil {
		return "", err
	}
	defer loop.Close()
	if !opts.Quiet {
		fmt.Fprintf(stderr, "training %s: %d train / %d validation images, %d parameters, run %s\n",
			cfg.Name, trainSet.Len(), valSet.Len(), params.Count(), dir)
	}
	listeners := []Listener{&MetricsCSV{Path: filepath.Join(dir, rundir.MetricsFile)}, &Checkpointer{Dir: dir}}
	if !opts.Quiet {
		listeners = append(listeners, &Progress{W: stderr, Interactive: opts.Interactive})
	}
	listeners = append(listeners, opts.Listeners...)
	start := time.Now()
	if err := loop.Fit(ctx, listeners...); err != nil {
		return dir, err
	}
	trainSeconds := time.Since(start).Seconds()

	best, _, err := classifier.Load(rundir.Best(dir))
	if err != nil {
		return dir, fmt.Errorf("reload best checkpoint: %w", err)
	}
	defer best.Close()
	res, err := best.Evaluate(ctx, test, 3)
	if err != nil {
		return dir, fmt.Errorf("test best checkpoint: %w", err)
	}
	bm, _ := loop.Best()
	rep := Report{
		Name: cfg.Name, Test: res.Report, TestLoss: res.Loss,
		Epochs: loop.Epoch, BestEpoch: loop.BestEpoch, BestValAcc: bm.ValAcc,
		TrainSeconds: trainSeconds, SecondsPerEpoch: trainSeconds / float64(max(1, loop.Epoch)),
		TrainImages: trainSet.Len(), ValImages: valSet.Len(), Parameters: params.Count(),
		History: loop.History, Checkpoint: filepath.Join(rundir.CheckpointDir, rundir.BestFile), Status: "finished",
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return dir, fmt.Errorf("encode report: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, rundir.ReportFile), append(b, '\n'), 0o644); err != nil {
		return dir, err
	}
	if !opts.Quiet {
		fmt.Fprintf(stderr, "test accuracy %.4f (top-3 %.4f) with the best checkpoint (epoch %d); %.1fs per epoch\n",
			res.Report.Accuracy, res.Report.TopKAccuracy, loop.BestEpoch, rep.SecondsPerEpoch)
	}
	return dir, nil
}

// ReadReport decodes a report.json.
func ReadReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	return &r, nil
}
