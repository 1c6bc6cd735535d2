package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// ErrIncompatible is returned when resuming with a config whose model, data
// or optimization differs from the checkpoint's.
var ErrIncompatible = errors.New("config does not match the checkpoint")

// resumable lists the keys that may change when a run is resumed.
var resumable = map[string]bool{
	"name": true, "train.epochs": true, "train.threads": true, "train.checkpoint_every": true,
	"data.dir": true, "data.workers": true, "output.dir": true,
}

// resumed is what a resume starts from: the run directory, held by lock,
// the checkpoint and the model it holds (with the new config). All nil
// for a new run.
type resumed struct {
	dir   string
	lock  *rundir.Lock
	ck    *checkpoint.Checkpoint
	model *classifier.Model
}

// release unlocks the run directory, if a resume locked it.
func (r *resumed) release() {
	if r != nil && r.lock != nil {
		r.lock.Release()
	}
}

// openResume locks the run directory named by opts.Resume, loads its
// checkpoint, rebuilds the model and checks the config is compatible. A run
// killed before its first checkpoint has nothing to resume: opts is turned
// into a new run in the same directory. Without a resume it returns an
// empty value.
func openResume(opts *Options) (*resumed, error) {
	r := &resumed{}
	if opts.Resume == "" {
		return r, nil
	}
	rdir, ckPath := resumePaths(opts.Resume)
	_, ckErr := os.Stat(ckPath)
	_, cfgErr := os.Stat(filepath.Join(rdir, rundir.ConfigFile))
	if errors.Is(ckErr, fs.ErrNotExist) && cfgErr == nil {
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
	if r.ck, err = checkpoint.Load(ckPath); err != nil {
		return r, err
	}
	if r.model, err = classifier.FromCheckpoint(r.ck); err != nil {
		return r, fmt.Errorf("checkpoint %s: %w", ckPath, err)
	}
	if err := compatible(r.model.Config, opts.Config, ckPath); err != nil {
		return r, err
	}
	r.model.Config = opts.Config
	return r, nil
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
