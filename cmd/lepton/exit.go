package main

import (
	"errors"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/run"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Exit codes; exitCodes describes each, and the README's table is
// generated from it (go test ./cmd/lepton -run README -update).
const (
	exitOK         = 0   // success
	exitFailure    = 1   // any other failure; some predict inputs failed
	exitUsage      = 2   // bad flags, arguments or configuration
	exitData       = 3   // data set missing or invalid
	exitCheckpoint = 4   // checkpoint missing, unusable or not matching the run
	exitRunExists  = 5   // the run directory already holds a run or is in use
	exitSIGINT     = 130 // interrupted by SIGINT (Ctrl-C)
	exitSIGTERM    = 143 // terminated by SIGTERM
)

// exitCodes is the exit-code table, in the README's order and words.
var exitCodes = []struct {
	code    int
	meaning string
}{
	{exitOK, "success"},
	{exitFailure, "any other failure; some `predict` inputs could not be classified"},
	{exitUsage, "bad flags, arguments or configuration (including a config that does not fit the data: `model.input`, `model.classes`)"},
	{exitData, "data set missing or invalid, in every command (`train`, `eval`, `data info`, `data fetch`)"},
	{exitCheckpoint, "checkpoint missing, unreadable, corrupt, of another format version or another kind of file (ONNX), holding an invalid config, or not matching the run it should resume"},
	{exitRunExists, "the run directory already holds a run (use `--force`) or another lepton is training into it"},
	{exitSIGINT, "interrupted by SIGINT (Ctrl-C)"},
	{exitSIGTERM, "terminated by SIGTERM"},
}

// usageError marks errors in flags or arguments.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// checkpointError marks errors in reading a checkpoint.
type checkpointError struct{ err error }

func (e checkpointError) Error() string { return e.err.Error() }
func (e checkpointError) Unwrap() error { return e.err }

// silentError has already been reported.
type silentError struct{ err error }

func (e silentError) Error() string { return e.err.Error() }
func (e silentError) Unwrap() error { return e.err }

func silent(err error) bool {
	var s silentError
	return errors.As(err, &s) || drained(err)
}

// drainedError reports a command that handled SIGTERM or SIGINT itself
// and stopped cleanly (a server's drain): exit 0, nothing more printed.
type drainedError struct{}

func (drainedError) Error() string { return "stopped cleanly after a termination signal" }

func drained(err error) bool {
	var d drainedError
	return errors.As(err, &d)
}

// exitCode maps an error to its exit code. The kinds are tested from the
// most specific cause outwards: a checkpoint whose stored config is invalid
// is a checkpoint problem (4), not a configuration one (2), and a data set
// that cannot be read is a data problem (3) whatever file error it wraps.
func exitCode(err error) int {
	var (
		cfgErr *config.Error
		usage  usageError
		ckErr  checkpointError
	)
	switch {
	case err == nil, drained(err):
		return exitOK
	case errors.As(err, &ckErr), errors.Is(err, checkpoint.ErrUnusable),
		errors.Is(err, checkpoint.ErrCorrupt), errors.Is(err, checkpoint.ErrVersion),
		errors.Is(err, run.ErrNoCheckpoint), errors.Is(err, run.ErrIncompatible):
		return exitCheckpoint
	case errors.Is(err, data.ErrNoData), errors.Is(err, data.ErrInvalid):
		return exitData
	case errors.As(err, &usage), errors.As(err, &cfgErr):
		return exitUsage
	case errors.Is(err, rundir.ErrExists), errors.Is(err, rundir.ErrLocked):
		return exitRunExists
	}
	return exitFailure // including predict.ErrSomeFailed: some inputs failed
}
