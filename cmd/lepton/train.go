package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/engine"
	"github.com/lepton-cli/lepton/internal/run"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// trainOptions are the flags of "lepton train".
type trainOptions struct {
	ConfigFile string
	Sets       []string
	Data       string
	Out        string
	Force      bool
	Resume     string
	Quiet      bool
	Epochs     int
	BatchSize  int
	Seed       uint64
	Threads    int
	LR         float64

	changed func(name string) bool
}

func newTrainCmd(s *streams, runF func(*trainOptions) error) *cobra.Command {
	opts := &trainOptions{}
	cmd := &cobra.Command{
		Use:   "train --config FILE",
		Short: "Train a model and write a run directory",
		Long: `Train a model from a YAML config and write a run directory holding the
resolved config.yaml, checkpoints/last.safetensors and best.safetensors,
metrics.csv (one row per epoch) and report.json (test metrics of the best
checkpoint). The run directory is printed as the last line of stdout.

Settings come from, lowest precedence first: built-in defaults, the config
file, LEPTON_* environment variables (LEPTON_TRAIN_EPOCHS=3), --set
key=value, and the explicit flags below.`,
		Example: `  lepton train --config configs/mlp.yaml
  run=$(lepton train --config configs/mlp.yaml --set train.epochs=3 --quiet)
  lepton train --config configs/mlp.yaml --out runs/exp1 --force --data ~/cifar
  lepton train --resume runs/exp1              # continue after Ctrl-C or a crash
  lepton train --resume runs/exp1 --epochs 20  # train a finished run further`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 1 && opts.ConfigFile == "" && looksLikeConfig(args[0]):
				return usageError{fmt.Errorf("train takes its config with --config: lepton train --config %s", shellQuote(args[0]))}
			case len(args) > 0:
				return usageError{fmt.Errorf("train takes no arguments, got %q (the config goes with --config FILE)", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.changed = cmd.Flags().Changed
			if runF != nil {
				return runF(opts)
			}
			return trainRun(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigFile, "config", "c", "", "YAML config `file` (defaults apply without one)")
	f.StringArrayVar(&opts.Sets, "set", nil, "override a config `key=value` (repeatable)")
	f.StringVar(&opts.Data, "data", "", "data set `dir` (or CIFAR archive); an image folder DIR/<class>/<images> with data.dataset: folder")
	f.StringVarP(&opts.Out, "out", "o", "", "run `dir` (default <output.dir>/<name>-<UTC timestamp>-<random suffix>)")
	f.BoolVar(&opts.Force, "force", false, "overwrite a run already in --out")
	f.StringVar(&opts.Resume, "resume", "", "continue the run in `dir` (or from a checkpoint file in it) exactly where it stopped")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "no progress bar or per-epoch lines")
	f.IntVar(&opts.Epochs, "epochs", 0, "number of epochs (train.epochs)")
	f.IntVar(&opts.BatchSize, "batch-size", 0, "mini-batch size (train.batch_size)")
	f.Uint64Var(&opts.Seed, "seed", 0, "random seed (seed)")
	f.IntVar(&opts.Threads, "threads", 0, "threads, 0 = all cores (train.threads)")
	f.Float64Var(&opts.LR, "lr", 0, "learning rate (train.optimizer.lr)")
	return cmd
}

// flagSets turns explicitly given flags into config overrides, so they take
// precedence over everything else.
func (o *trainOptions) flagSets() []string {
	sets := append([]string(nil), o.Sets...)
	add := func(flag, key, value string) {
		if o.changed != nil && o.changed(flag) {
			sets = append(sets, key+"="+value)
		}
	}
	add("epochs", "train.epochs", strconv.Itoa(o.Epochs))
	add("batch-size", "train.batch_size", strconv.Itoa(o.BatchSize))
	add("seed", "seed", strconv.FormatUint(o.Seed, 10))
	add("threads", "train.threads", strconv.Itoa(o.Threads))
	add("lr", "train.optimizer.lr", strconv.FormatFloat(o.LR, 'g', -1, 64))
	return sets
}

// loadConfig resolves a config from defaults, file, environment and sets.
func loadConfig(s *streams, file string, sets []string) (*config.Config, error) {
	var env []string
	if s.Environ != nil {
		env = s.Environ()
	}
	return config.Load(config.LoadOptions{File: file, Env: env, Sets: sets})
}

func trainRun(cmd *cobra.Command, s *streams, opts *trainOptions) error {
	file := opts.ConfigFile
	if opts.Resume != "" {
		if opts.Out != "" || opts.Force {
			return usageError{fmt.Errorf("--resume continues its own run directory: drop --out and --force")}
		}
		if file == "" {
			var err error
			if file, err = run.ConfigFile(opts.Resume); err != nil {
				return err
			}
		}
	}
	cfg, err := loadConfig(s, file, opts.flagSets())
	if err != nil {
		return err
	}
	es := engine.Settings{Threads: cfg.Train.Threads}
	if s.Getenv("GOGC") == "" {
		es.GCPercent = 50
	}
	kernel := engine.Configure(es)
	ctx := cmd.Context()
	dir, err := run.Train(ctx, run.Options{
		Config:      cfg,
		Kernel:      kernel,
		DataDir:     data.ResolveLocation(cfg.Data.Dataset, opts.Data, cfg.Data.Dir, s.Getenv),
		DataCache:   data.CacheRoot(s.Getenv),
		OutDir:      opts.Out,
		Force:       opts.Force,
		Resume:      opts.Resume,
		Stderr:      s.Err,
		Interactive: s.ErrTTY && !opts.Quiet,
		Quiet:       opts.Quiet,
	})
	if err != nil {
		if dir != "" && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			_, lerr := checkpoint.Load(rundir.Last(dir))
			return interruptedError{dir: dir, saved: lerr == nil, err: err}
		}
		if dir != "" {
			return fmt.Errorf("run %s: %w", dir, err)
		}
		return err
	}
	_, err = fmt.Fprintln(s.Out, dir)
	return err
}

// looksLikeConfig reports whether a stray argument of train is probably
// its config file: a YAML file name, or an existing file.
func looksLikeConfig(arg string) bool {
	if ext := strings.ToLower(filepath.Ext(arg)); ext == ".yaml" || ext == ".yml" {
		return true
	}
	info, err := os.Stat(arg)
	return err == nil && info.Mode().IsRegular()
}
