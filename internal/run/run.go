// Package run composes lepton's training job in one pass, top to bottom:
// the resolved config, the data set and its splits, the model (new or
// resumed from a checkpoint), the run directory and its lock, the training
// loop with its listeners (metrics.csv, checkpoints, curves, progress), and
// at the end the test evaluation, the confusion figure and report.json.
//
// The lower packages know nothing of each other's part: train is the loop
// and its listeners, data the data set, classifier the model, checkpoint
// the file format, report the report file. Only this package puts them
// together, as each command's xxxRun does in the CLI.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/failpoint"
	"github.com/lepton-cli/lepton/internal/model"
	"github.com/lepton-cli/lepton/internal/report"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// Options configure a training run.
type Options struct {
	Config      *config.Config
	DataDir     string // resolved data location (directory or archive)
	DataCache   string // root of the decoded-folder cache (data.CacheRoot); empty: none
	OutDir      string // run directory; empty: <output.dir>/<name>-<UTC timestamp>
	Force       bool   // overwrite a finished run in OutDir
	Resume      string // run directory or checkpoint to continue; Config must be compatible
	Stderr      io.Writer
	Interactive bool // show a progress bar (stderr is a terminal and not --quiet)
	Quiet       bool // no per-epoch lines either
	Now         func() time.Time
	Listeners   []train.Listener // extra listeners, after the built-in ones
	Kernel      string           // matrix-multiply kernel in use (engine.Configure), for report.json
}

// Train trains a model as opts say and returns its run directory. The run
// directory holds config.yaml, checkpoints/last and best, metrics.csv,
// curves.png, confusion.png and report.json; once training finished, the
// report holds the final checkpoint's test metrics. When ctx is cancelled
// (Ctrl-C), the current state is saved to checkpoints/last.safetensors so
// that a resume continues exactly, the report says "interrupted", and
// ctx's error is returned.
func Train(ctx context.Context, opts Options) (dir string, err error) {
	opts = opts.withDefaults()
	// config.yaml, the checkpoints and report.json record the data the
	// run trains on by its absolute location (data.dir).
	opts.DataDir = absPath(opts.DataDir)

	// 0. Refuse a model that cannot fit before allocating anything (exit
	// 2): now when the config gives its input and classes, else once they
	// follow from the data (step 2).
	sized := opts.Config.Model.Input > 0 && opts.Config.Model.Classes > 0
	if sized {
		if err := checkMemory(opts.Config); err != nil {
			return "", err
		}
	}

	// 1. A resumed run: its directory (locked), checkpoint, model and
	// position. A finished run has nothing to do but say so.
	res, err := openResume(&opts)
	defer res.release()
	if err != nil {
		return res.dir, err
	}
	if res.finished != "" {
		fmt.Fprintln(opts.Stderr, res.finished)
		return res.dir, nil
	}

	// 2. The data set, opened (its classes and geometry), and the config
	// fitted to it (data.dir, data.image_size, data.channels, model.input,
	// model.classes), so that config.yaml records the data; a resumed
	// run's checkpoint must hold the same.
	src, err := openData(&opts)
	if err != nil {
		return res.dir, err
	}
	cfg := opts.Config
	if res.ck != nil {
		if err := compatible(res.stored, cfg, res.ckPath, false); err != nil {
			return res.dir, err
		}
		if err := res.adopt(cfg); err != nil {
			return res.dir, err
		}
	}

	if !sized {
		if err := checkMemory(cfg); err != nil {
			return res.dir, err
		}
	}

	// 3. The images, after the resume checks (which fail fast) and before
	// a new run directory is made (so missing data leaves nothing behind).
	sp, err := loadSplits(ctx, cfg, src)
	if err != nil {
		return res.dir, err
	}

	// 4. A new run: its directory (locked, config.yaml in it from the
	// start) and freshly initialised model.
	m, dir := res.model, res.dir
	if res.ck == nil {
		var lock *rundir.Lock
		if dir, lock, err = createDir(opts); err != nil {
			return "", err
		}
		defer lock.Release()
		if m, err = newModel(cfg, sp); err != nil {
			return dir, err
		}
	}
	if err := describe(m, cfg, sp.src); err != nil {
		return dir, err
	}

	// 5. The loop, restored to the checkpoint's state when resuming.
	loop, err := train.NewLoop(cfg, m, sp.train, sp.val)
	if err != nil {
		return dir, err
	}
	defer loop.Close()
	ckpt := &train.Checkpointer{Dir: dir, Every: cfg.Train.CheckpointEvery}
	if res.ck != nil {
		if err := restore(opts, dir, loop, ckpt, res); err != nil {
			return dir, err
		}
	}
	rep := &report.Report{
		Name: cfg.Name, TrainImages: sp.train.Len(), ValImages: sp.val.Len(),
		Parameters: m.Params.Count(), Checkpoint: filepath.Join(rundir.CheckpointDir, rundir.BestFile),
		Data: report.DataOf(sp.src, cfg.Data.Dir), Kernel: opts.Kernel,
	}
	announce(opts, loop, rep, dir, res.ck != nil)

	// 6. Training, with the listeners that write the run's files.
	listeners := []train.Listener{&train.MetricsCSV{Path: filepath.Join(dir, rundir.MetricsFile)}, ckpt,
		&train.Curves{Path: filepath.Join(dir, rundir.CurvesFile)}}
	if !opts.Quiet {
		listeners = append(listeners, &train.Progress{W: opts.Stderr, Interactive: opts.Interactive})
	}
	listeners = append(listeners, opts.Listeners...)
	if err := loop.Fit(ctx, listeners...); err != nil {
		return dir, stopped(ctx, err, dir, loop, ckpt, rep)
	}
	rep.Fill(loop)
	failpoint.Hit(failpoint.TrainingDone)

	// 7. The final model on the test set, the confusion figure, the report.
	return dir, finish(ctx, opts, dir, loop, sp.test, rep)
}

// restore sets a resumed run's loop to its checkpoint's state, rebuilds a
// best checkpoint that a crash kept from being written, and stores the
// config the run continues with.
func restore(opts Options, dir string, loop *train.Loop, ckpt *train.Checkpointer, res *resumed) error {
	if err := loop.Restore(res.ck); err != nil {
		return fmt.Errorf("resume from %s: %w", opts.Resume, err)
	}
	train.RestoreSeconds(filepath.Join(dir, rundir.MetricsFile), loop.History)
	// A crash between an epoch's last and best writes leaves best older
	// than the best epoch last records; last then holds that epoch's
	// weights, and best is written again from it.
	rebuild, err := checkBest(dir, res.ckPath, train.Position{Epoch: loop.Epoch, EpochStep: loop.EpochStep, BestEpoch: loop.BestEpoch})
	if err != nil {
		return err
	}
	if rebuild {
		if !opts.Quiet {
			fmt.Fprintf(opts.Stderr, "rebuilding %s (epoch %d) from %s: the run stopped between the two writes\n",
				rundir.Best(dir), loop.BestEpoch, rundir.Last(dir))
		}
		if err := ckpt.SaveBest(loop); err != nil {
			return err
		}
	}
	y, err := opts.Config.YAML()
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	return atomicfile.WriteFile(filepath.Join(dir, rundir.ConfigFile), y, 0o644)
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	return o
}

// checkMemory refuses (as a config error) a model whose training would
// not fit in the machine's memory.
func checkMemory(cfg *config.Config) error {
	buffers := 2 // adam, adamw: two moments per parameter
	if cfg.Train.Optimizer.Name == "sgd" {
		buffers = 1 // the velocity
	}
	if err := model.CheckMemory(model.TrainingMemory(cfg.Model.Spec(), cfg.Train.BatchSize, classifier.InferenceBatch, buffers)); err != nil {
		return &config.Error{Err: err}
	}
	return nil
}

// createDir makes and locks a new run's directory. config.yaml is in it
// from the moment it exists, so a run killed at any point can be resumed:
// a directory that does not exist yet is filled aside and renamed into
// place (atomicfile.Mkdir); an existing one (--out of an empty directory,
// or --force over a run) gets config.yaml before checkpoints/.
func createDir(opts Options) (string, *rundir.Lock, error) {
	cfg := opts.Config
	y, err := cfg.YAML()
	if err != nil {
		return "", nil, fmt.Errorf("encode config: %w", err)
	}
	dir := opts.OutDir
	var fresh bool
	// A default name is drawn again in the (astronomically unlikely) case
	// that another run already took it: default names never collide.
	for attempt := 0; ; attempt++ {
		if opts.OutDir == "" {
			dir = filepath.Join(cfg.Output.Dir, rundir.DefaultName(cfg.Name, opts.Now()))
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return "", nil, fmt.Errorf("create run directory: %w", err)
		}
		err = atomicfile.Mkdir(dir, 0o755, func(tmp string) error {
			if err := rundir.Create(tmp, false, y); err != nil {
				return err
			}
			failpoint.Hit(failpoint.RunDirFilled)
			return nil
		})
		fresh = err == nil
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return "", nil, fmt.Errorf("create run directory: %w", err)
		}
		if fresh || opts.OutDir != "" || attempt >= 9 {
			break
		}
	}
	if fresh {
		failpoint.Hit(failpoint.RunDirCreated)
	}
	lock, err := rundir.Acquire(dir)
	if err != nil {
		return "", nil, err
	}
	if !fresh {
		if err := rundir.Create(dir, opts.Force, y); err != nil {
			lock.Release()
			return "", nil, err
		}
	}
	failpoint.Hit(failpoint.RunDirLocked)
	return dir, lock, nil
}

// newModel initialises a model from the seed, with the training split's
// normalization statistics.
func newModel(cfg *config.Config, sp *splits) (*classifier.Model, error) {
	params, err := model.NewParams(cfg.Model.Spec(), cfg.Seed)
	if err != nil {
		return nil, err
	}
	return classifier.New(cfg.Model.Spec(), params, sp.train.Geometry, data.ComputeStats(sp.train), sp.classes)
}

// describe records in m what its checkpoints store besides the weights:
// the data set it is trained on (src, at the fitted config's data.dir,
// with what reopening its test split needs) and the run's config.
func describe(m *classifier.Model, cfg *config.Config, src data.Source) error {
	y, err := cfg.YAML()
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	m.TrainConfig = string(y)
	d := checkpoint.DataSource{Dataset: src.Kind(), Location: cfg.Data.Dir, Resize: cfg.Data.Resize}
	switch d.Dataset {
	case data.KindCIFAR100:
		d.Label = cfg.Data.Label
	case data.KindFolder:
		d.TestSplit, d.Seed = cfg.Data.TestSplit, cfg.Seed
	}
	m.Data = d
	return nil
}

// absPath returns p as an absolute path when it can, else p.
func absPath(p string) string {
	if p == "" {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// announce says on stderr what is about to be trained.
func announce(opts Options, loop *train.Loop, rep *report.Report, dir string, resumed bool) {
	if opts.Quiet {
		return
	}
	verb := "training"
	if resumed {
		verb = fmt.Sprintf("resuming at epoch %d step %d:", loop.Epoch+1, loop.EpochStep)
	}
	fmt.Fprintf(opts.Stderr, "%s %s: %d train / %d validation images, %d parameters, run %s\n",
		verb, opts.Config.Name, rep.TrainImages, rep.ValImages, rep.Parameters, dir)
}
