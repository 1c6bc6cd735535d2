package main

import (
	"cmp"
	"fmt"
	"path/filepath"

	"github.com/lepton-cli/lepton/internal/classifier"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// checkpointSource is where eval, predict and export find their checkpoint.
type checkpointSource struct {
	Flag string // --checkpoint: a checkpoint file or a run directory
	Runs string // --runs: searched for the newest finished run
}

// openCheckpoint resolves and loads the checkpoint of eval, predict and
// export, the one place that decides it: --checkpoint (a file, or a run
// directory meaning its best checkpoint), else $LEPTON_CHECKPOINT (the
// same), else the best checkpoint of the newest finished run under --runs.
// Unless a file was named by --checkpoint, stderr says which checkpoint is
// used and why. Every error is a checkpoint error (exit 4).
func openCheckpoint(s *streams, src checkpointSource) (*classifier.Model, string, error) {
	path, err := resolveCheckpoint(s, src)
	if err != nil {
		return nil, "", checkpointError{err}
	}
	m, _, err := classifier.Load(path)
	if err != nil {
		return nil, "", checkpointError{err}
	}
	return m, path, nil
}

func resolveCheckpoint(s *streams, src checkpointSource) (string, error) {
	arg, from := src.Flag, "--checkpoint"
	if arg == "" {
		arg, from = s.Getenv("LEPTON_CHECKPOINT"), "LEPTON_CHECKPOINT"
	}
	if arg == "" {
		dir, err := rundir.Latest(src.Runs)
		if err != nil {
			return "", fmt.Errorf("no --checkpoint given and %w", err)
		}
		path := rundir.Best(dir)
		fmt.Fprintf(s.Err, "lepton: using checkpoint %s (newest finished run)\n", path)
		return path, nil
	}
	path, fromRun, err := rundir.Checkpoint(arg)
	if err != nil {
		return "", fmt.Errorf("%s: %w", from, err)
	}
	switch {
	case fromRun:
		run := filepath.Dir(filepath.Dir(path))
		note := ""
		if st := rundir.Status(run); st != "finished" {
			note = "; the run is " + cmp.Or(st, "not finished") + ": best epoch so far"
		}
		fmt.Fprintf(s.Err, "lepton: using checkpoint %s (the best of run %s%s)\n", path, run, note)
	case from != "--checkpoint":
		fmt.Fprintf(s.Err, "lepton: using checkpoint %s (%s)\n", path, from)
	}
	return path, nil
}

// checkpointUsage and checkpointHelp document --checkpoint in eval,
// predict and export.
const (
	checkpointUsage = "checkpoint `file` or run directory (its best checkpoint); default $LEPTON_CHECKPOINT, else the newest finished run's best"
	checkpointHelp  = `--checkpoint takes a checkpoint file or a run directory (meaning its
checkpoints/best.safetensors). Without it, lepton uses $LEPTON_CHECKPOINT
(the same), else the best checkpoint of the newest finished run under
--runs. Unless a file was named with --checkpoint, stderr says which
checkpoint is used.`
)
