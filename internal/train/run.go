package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/metrics"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/plot"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Options configure a training run.
type Options struct {
	Config      *config.Config
	DataDir     string // resolved data location (directory or archive)
	OutDir      string // run directory; empty: <output.dir>/<name>-<UTC timestamp>
	Force       bool   // overwrite a finished run in OutDir
	Resume      string // run directory or checkpoint to continue; Config must be compatible
	Stderr      io.Writer
	Interactive bool // show a progress bar (stderr is a terminal and not --quiet)
	Quiet       bool // no per-epoch lines either
	Now         func() time.Time
	Listeners   []Listener // extra listeners, after the built-in ones
}

// Report is the content of report.json.
type Report struct {
	Name            string         `json:"name"`
	Status          string         `json:"status"` // finished, interrupted or failed
	Error           string         `json:"error,omitempty"`
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
	StoppedEarly    bool           `json:"stopped_early"`
}

// Status values of a run's report.
const (
	StatusFinished    = "finished"
	StatusInterrupted = "interrupted"
	StatusFailed      = "failed"
)

// ErrIncompatible is returned when resuming with a config whose model, data
// or optimization differs from the checkpoint's.
var ErrIncompatible = errors.New("config does not match the checkpoint")

// resumable lists the keys that may change when a run is resumed.
var resumable = map[string]bool{
	"name": true, "train.epochs": true, "train.threads": true, "train.checkpoint_every": true,
	"data.dir": true, "data.workers": true, "output.dir": true,
}

// Run trains a model as opts say and returns its run directory. The run
// directory holds config.yaml, checkpoints/last and best, metrics.csv and
// report.json; once training finished, the report holds the best
// checkpoint's test metrics. When ctx is cancelled (Ctrl-C), the current
// state is saved to checkpoints/last.safetensors so that --resume continues
// exactly, the report says "interrupted", and ctx's error is returned.
func Run(ctx context.Context, opts Options) (dir string, err error) {
	cfg := opts.Config
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	var (
		m       *classifier.Model
		resumed *checkpoint.Checkpoint
		lock    *rundir.Lock
	)
	if opts.Resume != "" {
		// A run killed before its first checkpoint has nothing to resume:
		// start it over in the same directory.
		rdir, ckPath := resumePaths(opts.Resume)
		_, ckErr := os.Stat(ckPath)
		_, cfgErr := os.Stat(filepath.Join(rdir, rundir.ConfigFile))
		if errors.Is(ckErr, fs.ErrNotExist) && cfgErr == nil {
			if !opts.Quiet {
				fmt.Fprintf(stderr, "no checkpoint in %s yet: starting the run over\n", rdir)
			}
			opts.Resume, opts.OutDir, opts.Force = "", rdir, true
		}
	}
	if opts.Resume != "" {
		var ckPath string
		dir, ckPath = resumePaths(opts.Resume)
		if lock, err = rundir.Acquire(dir); err != nil {
			return "", err
		}
		defer lock.Release()
		if resumed, err = checkpoint.Load(ckPath); err != nil {
			return "", err
		}
		if m, err = classifier.FromCheckpoint(resumed); err != nil {
			return "", fmt.Errorf("checkpoint %s: %w", ckPath, err)
		}
		if err := compatible(m.Config, cfg, ckPath); err != nil {
			return "", err
		}
		m.Config = cfg
	}
	// Load the data after the resume checks (which fail fast) and before a
	// new run directory is made (so missing data leaves nothing behind).
	trainAll, err := data.LoadTrain(opts.DataDir)
	if err != nil {
		return dir, err
	}
	test, err := data.LoadTest(opts.DataDir)
	if err != nil {
		return dir, err
	}
	if len(trainAll.Classes) != cfg.Model.Classes {
		return dir, fmt.Errorf("model.classes is %d but the data has %d classes", cfg.Model.Classes, len(trainAll.Classes))
	}
	if cfg.Model.Input != data.ImageSize {
		return dir, fmt.Errorf("model.input is %d but the images have %d values", cfg.Model.Input, data.ImageSize)
	}
	trIdx, valIdx := data.StratifiedSplit(trainAll.Labels, cfg.Data.ValSplit, cfg.Seed)
	trainSet, valSet := trainAll.Subset(trIdx), trainAll.Subset(valIdx)
	classes := trainAll.Classes
	trainAll = nil // the splits are copies: let the 150 MB of the full set go

	if resumed == nil {
		dir = opts.OutDir
		if dir == "" {
			dir = filepath.Join(cfg.Output.Dir, rundir.DefaultName(cfg.Name, now()))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("create run directory: %w", err)
		}
		if lock, err = rundir.Acquire(dir); err != nil {
			return "", err
		}
		defer lock.Release()
		if err := rundir.Create(dir, opts.Force); err != nil {
			return "", err
		}
		spec := classifier.SpecOf(cfg.Model)
		params, err := model.NewParams(spec, cfg.Seed)
		if err != nil {
			return "", err
		}
		m = classifier.New(cfg, params, data.ComputeStats(trainSet), classes)
	}
	y, err := cfg.YAML()
	if err != nil {
		return "", fmt.Errorf("encode config: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, rundir.ConfigFile), y, 0o644); err != nil {
		return "", err
	}

	loop, err := NewLoop(cfg, m, trainSet, valSet)
	if err != nil {
		return dir, err
	}
	defer loop.Close()
	if resumed != nil {
		if err := loop.Restore(resumed); err != nil {
			return dir, fmt.Errorf("resume from %s: %w", opts.Resume, err)
		}
		restoreSeconds(filepath.Join(dir, rundir.MetricsFile), loop.History)
	}
	rep := &Report{
		Name: cfg.Name, TrainImages: trainSet.Len(), ValImages: valSet.Len(),
		Parameters: m.Params.Count(), Checkpoint: filepath.Join(rundir.CheckpointDir, rundir.BestFile),
	}
	if !opts.Quiet {
		verb := "training"
		if resumed != nil {
			verb = fmt.Sprintf("resuming at epoch %d step %d:", loop.Epoch+1, loop.EpochStep)
		}
		fmt.Fprintf(stderr, "%s %s: %d train / %d validation images, %d parameters, run %s\n",
			verb, cfg.Name, trainSet.Len(), valSet.Len(), rep.Parameters, dir)
	}
	ckpt := &Checkpointer{Dir: dir, Every: cfg.Train.CheckpointEvery}
	listeners := []Listener{&MetricsCSV{Path: filepath.Join(dir, rundir.MetricsFile)}, ckpt, &Curves{Path: filepath.Join(dir, rundir.CurvesFile)}}
	if !opts.Quiet {
		listeners = append(listeners, &Progress{W: stderr, Interactive: opts.Interactive})
	}
	listeners = append(listeners, opts.Listeners...)
	start := time.Now()
	if err := loop.Fit(ctx, listeners...); err != nil {
		rep.Status, rep.Error = StatusFailed, err.Error()
		if ctx.Err() != nil {
			rep.Status, rep.Error = StatusInterrupted, ""
			if serr := ckpt.SaveLast(loop); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		rep.fill(loop, time.Since(start).Seconds())
		if werr := writeReport(dir, rep); werr != nil {
			err = errors.Join(err, werr)
		}
		return dir, err
	}
	rep.fill(loop, time.Since(start).Seconds())

	final := rundir.Best(dir)
	if es := cfg.Train.EarlyStopping; es.Enabled && !es.RestoreBest {
		final = rundir.Last(dir)
		rep.Checkpoint = filepath.Join(rundir.CheckpointDir, rundir.LastFile)
	}
	best, _, err := classifier.Load(final)
	if err != nil {
		return dir, fmt.Errorf("reload final checkpoint: %w", err)
	}
	defer best.Close()
	res, err := best.Evaluate(ctx, test, 3)
	if err != nil {
		return dir, fmt.Errorf("test best checkpoint: %w", err)
	}
	rep.Status, rep.Test, rep.TestLoss = StatusFinished, res.Report, res.Loss
	if err := plot.Confusion(filepath.Join(dir, rundir.ConfusionFile), best.Classes, res.Report.ConfusionMatrix); err != nil {
		return dir, err
	}
	if err := writeReport(dir, rep); err != nil {
		return dir, err
	}
	if !opts.Quiet {
		if loop.Stopped {
			fmt.Fprintf(stderr, "early stopping after epoch %d: %s did not improve for %d epochs\n",
				loop.Epoch, loop.Early.Monitor, loop.Early.Patience)
		}
		fmt.Fprintf(stderr, "test accuracy %.4f (top-3 %.4f) with %s (best epoch %d); %.1fs per epoch\n",
			res.Report.Accuracy, res.Report.TopKAccuracy, rep.Checkpoint, loop.BestEpoch, rep.SecondsPerEpoch)
	}
	return dir, nil
}

// fill copies the loop's progress into the report.
func (r *Report) fill(l *Loop, seconds float64) {
	bm, _ := l.Best()
	r.Epochs, r.BestEpoch, r.BestValAcc, r.History = l.Epoch, l.BestEpoch, bm.ValAcc, l.History
	r.StoppedEarly = l.Stopped
	r.TrainSeconds = 0
	for _, m := range l.History {
		r.TrainSeconds += m.Seconds
	}
	r.SecondsPerEpoch = r.TrainSeconds / float64(max(1, l.Epoch))
}

func writeReport(dir string, rep *Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, rundir.ReportFile), append(b, '\n'), 0o644)
}

// resumePaths turns a --resume argument (a run directory or a checkpoint
// inside one) into the run directory and the checkpoint to load.
func resumePaths(arg string) (dir, ckpt string) {
	if strings.HasSuffix(arg, ".safetensors") {
		return filepath.Dir(filepath.Dir(arg)), arg
	}
	return arg, rundir.Last(arg)
}

// compatible refuses to resume with a config that changes anything but the
// keys in resumable, listing every difference.
func compatible(stored, cfg *config.Config, ckPath string) error {
	var diffs []string
	for _, d := range config.Diff(stored, cfg) {
		if !resumable[d.Key] {
			diffs = append(diffs, fmt.Sprintf("%s: %s in the checkpoint, %s now", d.Key, d.A, d.B))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("resume %s: %w: %s", ckPath, ErrIncompatible, strings.Join(diffs, "; "))
	}
	return nil
}

// restoreSeconds puts the per-epoch seconds recorded in metrics.csv back
// into a restored history (checkpoints leave wall-clock time out).
func restoreSeconds(path string, history []EpochMetrics) {
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

// ReadReport decodes a report.json.
func ReadReport(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	return &r, nil
}
