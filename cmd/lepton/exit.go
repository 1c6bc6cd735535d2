package main

import (
	"errors"

	"github.com/lepton-cli/lepton/internal/checkpoint"
	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/data"
	"github.com/lepton-cli/lepton/internal/run"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// Exit codes; the README's table lists the same.
const (
	exitOK         = 0   // success
	exitFailure    = 1   // any other failure; some predict inputs failed
	exitUsage      = 2   // bad flags, arguments or configuration
	exitData       = 3   // data set missing or invalid
	exitCheckpoint = 4   // checkpoint missing, corrupt or of another format version
	exitRunExists  = 5   // the run directory already holds a run or is in use
	exitSIGINT     = 130 // interrupted by SIGINT (Ctrl-C)
	exitSIGTERM    = 143 // terminated by SIGTERM
)

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
	return errors.As(err, &s)
}

func exitCode(err error) int {
	var (
		cfgErr *config.Error
		usage  usageError
		ckErr  checkpointError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), errors.As(err, &cfgErr), errors.Is(err, run.ErrIncompatible):
		return exitUsage
	case errors.Is(err, checkpoint.ErrCorrupt), errors.Is(err, checkpoint.ErrVersion), errors.As(err, &ckErr),
		errors.Is(err, run.ErrNoCheckpoint):
		return exitCheckpoint
	case errors.Is(err, data.ErrNoData), errors.Is(err, data.ErrInvalid):
		return exitData
	case errors.Is(err, rundir.ErrExists), errors.Is(err, rundir.ErrLocked):
		return exitRunExists
	}
	return exitFailure // including predict.ErrSomeFailed: some inputs failed
}
