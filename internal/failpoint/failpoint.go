// Package failpoint kills the process at named points in lepton's code, for
// tests that check what a crash at exactly that moment leaves behind (the
// way etcd's gofail failpoints are used). The points are inert unless the
// environment variable LEPTON_FAILPOINT names one when the process starts:
//
//	LEPTON_FAILPOINT=checkpoint-last-saved     SIGKILL the first time it is reached
//	LEPTON_FAILPOINT=checkpoint-last-saved@2   the second time
//
// An inert point costs one string comparison. The points lepton has are
// the constants below.
package failpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Env is the environment variable that arms a failpoint.
const Env = "LEPTON_FAILPOINT"

// The failpoints, in the order a new run reaches them.
const (
	// RunDirFilled: a new run directory's content (config.yaml,
	// checkpoints/) is made in its temporary directory, not yet renamed.
	RunDirFilled = "run-dir-filled"
	// RunDirCreated: the new run directory exists, not yet locked.
	RunDirCreated = "run-dir-created"
	// RunDirLocked: the run directory is locked, training not yet started.
	RunDirLocked = "run-dir-locked"
	// CheckpointLastSaved: an epoch's checkpoints/last is written, its
	// checkpoints/best (when the epoch is the best) not yet.
	CheckpointLastSaved = "checkpoint-last-saved"
	// TrainingDone: training ended, the final test and report.json not
	// yet done.
	TrainingDone = "training-done"
)

var (
	armed string // the armed point, "" when none
	at    int64  = 1
	hits  atomic.Int64
)

func init() { arm(os.Getenv(Env)) }

// arm parses a LEPTON_FAILPOINT value: "name" or "name@N".
func arm(v string) {
	armed, at = v, 1
	if name, n, ok := strings.Cut(v, "@"); ok {
		k, err := strconv.ParseInt(n, 10, 64)
		if err != nil || k < 1 {
			armed = "" // malformed: stay inert
			return
		}
		armed, at = name, k
	}
	hits.Store(0)
}

// Hit kills the process (SIGKILL on Unix) when point is the armed
// failpoint and this is the armed occurrence of it; otherwise it returns
// at once.
func Hit(point string) {
	if armed == "" || point != armed || hits.Add(1) != at {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Kill() == nil {
		for {
			time.Sleep(time.Second) // the signal ends the process
		}
	}
	os.Exit(137) // 128 + SIGKILL, as if killed
}
