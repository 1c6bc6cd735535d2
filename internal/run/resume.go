package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/rundir"
	"github.com/lepton-cli/lepton/internal/train"
)

// ErrIncompatible is returned when resuming with a config whose model, data
// or optimization differs from the checkpoint's.
var ErrIncompatible = errors.New("config does not match the checkpoint")

// ErrNoCheckpoint is returned when --resume names nothing that can be
// continued: a checkpoint file or run directory that does not exist, or a
// best checkpoint (weights only, no optimizer state).
var ErrNoCheckpoint = errors.New("no checkpoint to resume")

// resumable lists the keys that may change when a run is resumed.
var resumable = map[string]bool{
	"name": true, "train.epochs": true, "train.threads": true, "train.checkpoint_every": true,
	"data.dir": true, "data.workers": true, "output.dir": true,
}

// resumed is what a resume starts from: the run directory, held by lock,
// the checkpoint and the model it holds (with the new config), and where it
// stands. All zero for a new run.
type resumed struct {
	dir    string
	lock   *rundir.Lock
	ckPath string
	ck     *checkpoint.Checkpoint
	model  *classifier.Model
	pos    train.Position
	// finished is set when the run has nothing left to train and its
	// report says it finished: the resume does nothing but say so.
	finished string
	// stored is the checkpoint's config.
	stored *config.Config
}

// adopt makes the resumed model train with cfg's network (its dropout,
// batch-norm momentum, ...), which must be the one the checkpoint
// describes; cfg is the fitted config.
func (r *resumed) adopt(cfg *config.Config) error {
	spec := cfg.Model.Spec()
	if !slices.Equal(spec.Sizes(), r.model.Spec.Sizes()) || spec.BatchNorm != r.model.Spec.BatchNorm {
		return fmt.Errorf("resume %s: %w: the config's network %v differs from the checkpoint's %v", r.ckPath, ErrIncompatible, spec.Sizes(), r.model.Spec.Sizes())
	}
	r.model.Spec = spec
	return nil
}

// release unlocks the run directory, if a resume locked it.
func (r *resumed) release() {
	if r != nil && r.lock != nil {
		r.lock.Release()
	}
}

// ConfigFile returns the config a resume of arg (a run directory or a
// checkpoint file in one) uses when none is given: the run's config.yaml.
// A run directory or checkpoint that does not exist is an error wrapping
// ErrNoCheckpoint; a directory without config.yaml (a run killed before it
// wrote one, by an older lepton) is a config error saying to pass --config.
func ConfigFile(arg string) (string, error) {
	dir, ckPath, file := resumePaths(arg)
	if err := exists(dir, ckPath, file); err != nil {
		return "", err
	}
	path := filepath.Join(dir, rundir.ConfigFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", &config.Error{File: path, Msg: "no such file: the run was stopped before it wrote its config; give the config with --config"}
	}
	return path, nil
}

// openResume locks the run directory named by opts.Resume, loads its
// checkpoint, rebuilds the model and checks the config is compatible. A run
// directory that holds no checkpoint at all (killed before its first one)
// has nothing to resume: opts is turned into a new run in the same
// directory, with opts.Config. Without a resume it returns an empty value.
func openResume(opts *Options) (*resumed, error) {
	r := &resumed{}
	if opts.Resume == "" {
		return r, nil
	}
	rdir, ckPath, file := resumePaths(opts.Resume)
	if err := exists(rdir, ckPath, file); err != nil {
		return r, err
	}
	if !file && noCheckpoints(rdir) {
		if !opts.Quiet {
			fmt.Fprintf(opts.Stderr, "no checkpoint in %s yet: starting the run over\n", rdir)
		}
		opts.Resume, opts.OutDir, opts.Force = "", rdir, true
		return r, nil
	}
	r.dir = rdir
	lock, err := rundir.Acquire(rdir)
	if err != nil {
		return r, err
	}
	r.lock = lock
	r.ckPath = ckPath
	if r.ck, err = checkpoint.Load(ckPath); err != nil {
		return r, err
	}
	if r.model, err = classifier.FromCheckpoint(r.ck); err != nil {
		return r, fmt.Errorf("checkpoint %s: %w", ckPath, err)
	}
	// The stored config (resume is what it is kept for) decides what may
	// change. Keys a run fills from its data may still be unset in
	// opts.Config: Train checks them once the data is open.
	stored, err := config.Parse([]byte(r.ck.Meta.Config))
	if err != nil {
		return r, checkpoint.Unusable(fmt.Errorf("checkpoint %s: stored config: %w", ckPath, err))
	}
	if err := compatible(stored, opts.Config, ckPath, true); err != nil {
		return r, err
	}
	r.stored = stored
	if r.pos, err = train.PositionOf(r.ck); err != nil {
		return r, fmt.Errorf("checkpoint %s: %w", ckPath, err)
	}
	r.finished = finishedNote(rdir, r.pos, opts.Config)
	return r, nil
}

// resumePaths turns a --resume argument (a run directory or a checkpoint
// inside one) into the run directory and the checkpoint to load; file
// says the argument named the checkpoint.
func resumePaths(arg string) (dir, ckpt string, file bool) {
	if strings.HasSuffix(arg, ".safetensors") {
		return filepath.Dir(filepath.Dir(arg)), arg, true
	}
	return arg, rundir.Last(arg), false
}

// exists checks that a resume's run directory, or its named checkpoint
// file, exists and can be resumed (a best checkpoint cannot).
func exists(dir, ckPath string, file bool) error {
	if file {
		if filepath.Base(ckPath) == rundir.BestFile {
			return fmt.Errorf("resume %s: %w: a best checkpoint holds weights only, no optimizer state; resume from the run directory: lepton train --resume %s",
				ckPath, ErrNoCheckpoint, dir)
		}
		if _, err := os.Stat(ckPath); err != nil {
			return fmt.Errorf("resume %s: %w: %w%s", ckPath, ErrNoCheckpoint, err, present(filepath.Dir(ckPath)))
		}
		return nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("resume %s: %w: no such run directory: %w", dir, ErrNoCheckpoint, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("resume %s: %w: not a run directory or a .safetensors checkpoint", dir, ErrNoCheckpoint)
	}
	return nil
}

// present lists the checkpoints in dir, for a message about a mistyped one.
func present(dir string) string {
	names, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	if len(names) == 0 {
		return ""
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return fmt.Sprintf(" (%s holds %s)", dir, strings.Join(names, ", "))
}

// noCheckpoints reports whether the run directory holds no checkpoint at
// all: the only case in which a resume starts the run over.
func noCheckpoints(dir string) bool {
	names, err := filepath.Glob(filepath.Join(dir, rundir.CheckpointDir, "*.safetensors"))
	return err == nil && len(names) == 0
}

// checkBest checks that checkpoints/best.safetensors holds the best epoch
// that last's training state records. When it does not (a crash between
// the epoch's last and best writes: missing, older, or torn), and last is
// at the end of that very epoch, best is to be rebuilt from last; any other
// mismatch is an error.
func checkBest(dir, ckPath string, pos train.Position) (rebuild bool, err error) {
	if pos.BestEpoch == 0 || filepath.Clean(ckPath) != filepath.Clean(rundir.Last(dir)) {
		return false, nil
	}
	best, err := checkpoint.Load(rundir.Best(dir))
	if err == nil && best.Meta.Epoch == pos.BestEpoch {
		return false, nil
	}
	if pos.Epoch == pos.BestEpoch && pos.EpochStep == 0 {
		return true, nil
	}
	if err == nil {
		err = fmt.Errorf("%w: it holds epoch %d", checkpoint.ErrCorrupt, best.Meta.Epoch)
	}
	return false, fmt.Errorf("checkpoint %s: %w, but %s records epoch %d as the best", rundir.Best(dir), err, ckPath, pos.BestEpoch)
}

// finishedNote returns what to say when resuming a run that has nothing
// left to train and whose report says it finished, or "" when there is
// training (or the final test and report) left to do.
func finishedNote(dir string, pos train.Position, cfg *config.Config) string {
	if !rundir.Finished(dir) {
		return ""
	}
	switch epochs := cfg.Train.Epochs; {
	case pos.Stopped:
		return fmt.Sprintf("run %s is finished: early stopping ended it after epoch %d; nothing to train (to train further, start a new run)", dir, pos.Epoch)
	case pos.Epoch >= epochs:
		return fmt.Sprintf("run %s is finished: epoch %d of train.epochs %d is done; nothing to train (to train further: lepton train --resume %s --epochs N, with N > %d)",
			dir, pos.Epoch, epochs, dir, pos.Epoch)
	}
	return ""
}

// compatible refuses to resume with a config that changes anything but the
// keys in resumable, listing every difference; with unfitted, also the keys
// a run fills from its data when cfg leaves them unset.
func compatible(stored, cfg *config.Config, ckPath string, unfitted bool) error {
	var diffs []string
	for _, d := range config.Diff(stored, cfg) {
		if !resumable[d.Key] && !(unfitted && config.FollowsData(d)) {
			diffs = append(diffs, fmt.Sprintf("%s: %s in the checkpoint, %s now", d.Key, d.A, d.B))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("resume %s: %w: %s", ckPath, ErrIncompatible, strings.Join(diffs, "; "))
	}
	return nil
}
