// Package rundir knows the layout of a training run's directory: which
// files it holds, how a new one is named and created, and how to find the
// newest finished run.
package rundir

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/lepton-cli/lepton/internal/atomicfile"
	"github.com/lepton-cli/lepton/internal/regularfile"
)

// Files inside a run directory.
const (
	ConfigFile    = "config.yaml"
	MetricsFile   = "metrics.csv"
	ReportFile    = "report.json"
	CurvesFile    = "curves.png"    // loss, accuracy and learning rate per epoch (and per step, short runs)
	StepsFile     = "steps.csv"     // loss and learning rate of every step (runs of few epochs)
	ConfusionFile = "confusion.png" // the final checkpoint's test confusion matrix
	CheckpointDir = "checkpoints"
	LastFile      = "last.safetensors"
	BestFile      = "best.safetensors"
)

// maxReport bounds the report.json that Status reads.
const maxReport = 64 << 20

// ErrExists is returned when a run directory would be overwritten.
var ErrExists = errors.New("run directory already holds a run (use --force to overwrite it)")

// ErrNoRun is returned when no finished run can be found.
var ErrNoRun = errors.New("no finished run")

// DefaultName returns "<name>-<UTC timestamp>-<suffix>" for a run started
// at t: the time to the second, then 12 random hex digits, so that runs
// started in the same second (several "lepton train &" at once, array tasks
// of a cluster job on a shared file system, containers that all run as PID
// 1) pick different directories. The suffix is not drawn from the config's
// seed: two runs of one config must not collide either. Names still sort by
// start time.
func DefaultName(name string, t time.Time) string {
	var b [6]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return name + "-" + t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// Last returns the path of a run's last checkpoint.
func Last(dir string) string { return filepath.Join(dir, CheckpointDir, LastFile) }

// Best returns the path of a run's best checkpoint.
func Best(dir string) string { return filepath.Join(dir, CheckpointDir, BestFile) }

// Create makes dir a new run directory: config (the resolved config) as
// its config.yaml, written atomically, then an empty checkpoints folder. A
// directory that already holds a run (a config.yaml) is refused unless
// force is set, in which case its previous run files are removed first,
// checkpoints before the config: a crash in between leaves a run without
// checkpoints (which a resume starts over), never checkpoints without
// their config.
func Create(dir string, force bool, config []byte) error {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		if !force {
			return fmt.Errorf("%s: %w", dir, ErrExists)
		}
		for _, f := range []string{CheckpointDir, ReportFile, MetricsFile, StepsFile} {
			if err := os.RemoveAll(filepath.Join(dir, f)); err != nil {
				return fmt.Errorf("clear run directory %s: %w", dir, err)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("check run directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ConfigFile), config, 0o644); err != nil {
		return fmt.Errorf("write run config: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, CheckpointDir), 0o755); err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	return nil
}

// Status returns the status recorded in dir's report.json ("finished",
// "interrupted", "failed"), or "" when there is no readable report.
func Status(dir string) string {
	b, err := regularfile.ReadFile(filepath.Join(dir, ReportFile), maxReport)
	if err != nil {
		return ""
	}
	var r struct {
		Status string `json:"status"`
	}
	if json.Unmarshal(b, &r) != nil {
		return ""
	}
	return r.Status
}

// Finished reports whether dir holds a finished run.
func Finished(dir string) bool { return Status(dir) == "finished" }

// Latest returns the newest finished run directory directly under parent,
// by the modification time of its report.
func Latest(parent string) (string, error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w under %s (train one with \"lepton train\")", ErrNoRun, parent)
		}
		return "", fmt.Errorf("list runs in %s: %w", parent, err)
	}
	type run struct {
		dir string
		t   time.Time
	}
	var runs []run
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		info, err := os.Stat(filepath.Join(dir, ReportFile))
		if err != nil || !Finished(dir) {
			continue
		}
		if _, err := os.Stat(Best(dir)); err != nil {
			continue
		}
		runs = append(runs, run{dir, info.ModTime()})
	}
	if len(runs) == 0 {
		return "", fmt.Errorf("%w under %s (train one with \"lepton train\")", ErrNoRun, parent)
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].t.Equal(runs[j].t) {
			return runs[i].t.After(runs[j].t)
		}
		return runs[i].dir > runs[j].dir
	})
	return runs[0].dir, nil
}

// Checkpoint resolves a --checkpoint argument: a file is itself; a run
// directory, or its checkpoints folder, gives the run's best checkpoint
// (fromRun is then true). A directory without a best checkpoint is an
// error naming what is missing.
func Checkpoint(arg string) (path string, fromRun bool, err error) {
	info, err := os.Stat(arg)
	if err != nil || !info.IsDir() {
		return arg, false, nil // the checkpoint reader reports a missing file
	}
	for _, p := range []string{Best(arg), filepath.Join(arg, BestFile)} {
		if _, err := os.Stat(p); err == nil {
			return p, true, nil
		}
	}
	return "", false, fmt.Errorf("%s is a directory without %s: not a run directory, or its first epoch has not ended",
		arg, filepath.Join(CheckpointDir, BestFile))
}
