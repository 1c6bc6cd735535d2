package sweep

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lepton-cli/lepton/internal/config"
	"github.com/lepton-cli/lepton/internal/rundir"
)

// LocalOptions configure RunLocal.
type LocalOptions struct {
	// Lepton is the lepton binary that trains each trial.
	Lepton string
	// Parallel is how many trials train at once (at least 1).
	Parallel int
	// CPUs are the cores shared among the running trials: a trial whose
	// config leaves train.threads at 0 trains on CPUs/Parallel threads.
	CPUs int
	// Data is passed as --data to every trial; empty: each trial resolves
	// its data as "lepton train" does (data.dir, LEPTON_DATA_DIR, cache).
	Data string
	// Env is the trials' environment (like os.Environ()); the LEPTON_*
	// variables of config keys are left out, since a trial's config.yaml
	// is complete.
	Env []string
	// Stderr receives one progress line per trial event.
	Stderr io.Writer
	// Grace is how long a trial may take to save its checkpoint and exit
	// after the sweep is interrupted, before it is killed; 0 means a minute.
	Grace time.Duration
}

// Tally counts what a sweep run did with its trials.
type Tally struct {
	Finished, Skipped, Interrupted, Failed int
}

// RunLocal trains the sweep's trials in dir (prepared by Prepare) on this
// machine, at most opts.Parallel at once, each as "lepton train" in its
// run directory: finished trials are skipped, trials with a checkpoint are
// resumed (--resume), the others start. Each trial's output goes to its
// train.log; stderr gets a line when a trial starts, ends an epoch,
// finishes, fails or is interrupted. When ctx is cancelled (Ctrl-C), no
// more trials start and the running ones get SIGINT, so that they save a
// resumable checkpoint; RunLocal then returns an error wrapping ctx's. A
// failed trial does not stop the others; RunLocal returns an error naming
// the failed trials.
func RunLocal(ctx context.Context, dir string, trials []Trial, opts LocalOptions) (Tally, error) {
	if opts.Parallel < 1 {
		return Tally{}, fmt.Errorf("--parallel %d: want at least 1", opts.Parallel)
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	threads := max(1, opts.CPUs/opts.Parallel)
	fmt.Fprintf(stderr, "sweep %s: %d trials, %d at once, %s each (unless their config sets train.threads)\n",
		dir, len(trials), opts.Parallel, plural(threads, "thread"))
	var (
		mu     sync.Mutex
		tally  Tally
		failed []string
	)
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stderr, format+"\n", args...)
	}
	env := trialEnv(opts.Env)
	work := make(chan Trial)
	var wg sync.WaitGroup
	for w := 0; w < opts.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				st, why := runTrial(ctx, dir, t, opts, threads, env, say)
				mu.Lock()
				switch st {
				case trialFinished:
					tally.Finished++
				case trialSkipped:
					tally.Skipped++
				case trialInterrupted:
					tally.Interrupted++
				default:
					tally.Failed++
					failed = append(failed, fmt.Sprintf("trial %s: %s", t.Name(), why))
				}
				mu.Unlock()
			}
		}()
	}
	notStarted := 0
feed:
	for i, t := range trials {
		select {
		case work <- t:
		case <-ctx.Done():
			notStarted = len(trials) - i
			break feed
		}
	}
	close(work)
	wg.Wait()
	fmt.Fprintf(stderr, "sweep %s: %d finished, %d skipped (already finished), %d interrupted, %d failed, %d not started\n",
		dir, tally.Finished, tally.Skipped, tally.Interrupted, tally.Failed, notStarted)
	if ctx.Err() != nil {
		return tally, fmt.Errorf("sweep %s interrupted: run the same command again to resume it: %w", dir, ctx.Err())
	}
	if len(failed) > 0 {
		return tally, fmt.Errorf("sweep %s: %d of %d trials failed: %s", dir, len(failed), len(trials), strings.Join(failed, "; "))
	}
	return tally, nil
}

// Outcomes of one trial.
const (
	trialFinished    = "finished"
	trialSkipped     = "skipped"
	trialInterrupted = "interrupted"
	trialFailed      = "failed"
)

// runTrial trains one trial and says how it ended, with a reason when it
// failed.
func runTrial(ctx context.Context, dir string, t Trial, opts LocalOptions, threads int, env []string, say func(string, ...any)) (string, string) {
	td := TrialDir(dir, t.Index)
	if ctx.Err() != nil {
		return trialInterrupted, ""
	}
	if rundir.Finished(td) {
		say("trial %s skipped: already finished", t.Name())
		return trialSkipped, ""
	}
	if pid, alive := rundir.Holder(td); alive {
		say("trial %s skipped: process %d is training it", t.Name(), pid)
		return trialFailed, fmt.Sprintf("in use by process %d", pid)
	}
	args, verb := TrainArgs(td)
	if opts.Data != "" {
		args = append(args, "--data", opts.Data)
	}
	if t.Config.Train.Threads == 0 {
		args = append(args, "--threads", strconv.Itoa(threads))
	}
	log, err := os.OpenFile(filepath.Join(td, LogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return trialFailed, err.Error()
	}
	defer log.Close()
	fmt.Fprintf(log, "== %s: lepton %s\n", time.Now().UTC().Format(time.RFC3339), strings.Join(args, " "))

	cmd := exec.CommandContext(ctx, opts.Lepton, args...)
	cmd.Env = env
	cmd.Stdout = log
	// Its own process group: the terminal's Ctrl-C reaches the sweep only,
	// which passes exactly one SIGINT on (a second one would make the
	// trial exit before it saved its checkpoint).
	ownProcessGroup(cmd)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = opts.Grace
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = time.Minute
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return trialFailed, err.Error()
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return trialInterrupted, ""
		}
		return trialFailed, err.Error()
	}
	say("trial %s %s: %s", t.Name(), verb, t.Describe())
	last := forward(pipe, log, func(line string) {
		if strings.HasPrefix(line, "epoch ") {
			say("trial %s %s", t.Name(), line)
		}
	})
	err = cmd.Wait()
	secs := time.Since(start).Seconds()
	// The report decides: a trial may finish just as the sweep is
	// interrupted (and then exit 130 all the same).
	switch status := rundir.Status(td); {
	case status == "finished":
		r, _ := readTrial(td, nil)
		say("trial %s finished in %.0fs: val_acc %s, val_loss %s, test_acc %s", t.Name(), secs,
			fmtMetric(r.ValAcc), fmtMetric(r.ValLoss), fmtMetric(r.TestAcc))
		return trialFinished, ""
	case ctx.Err() != nil && exists(rundir.Last(td)):
		say("trial %s interrupted after %.0fs: checkpoint saved, it resumes on the next run", t.Name(), secs)
		return trialInterrupted, ""
	case ctx.Err() != nil:
		say("trial %s stopped after %.0fs before its first checkpoint: it starts over on the next run", t.Name(), secs)
		return trialInterrupted, ""
	}
	var exit *exec.ExitError
	why := fmt.Sprint(err)
	if errors.As(err, &exit) {
		why = "exit " + strconv.Itoa(exit.ExitCode())
	}
	if last != "" {
		why += ": " + last
	}
	why += " (log: " + filepath.Join(td, LogFile) + ")"
	say("trial %s failed: %s", t.Name(), why)
	return trialFailed, why
}

// TrainArgs returns the "lepton train" arguments for the trial in run
// directory td and what they do: "resumed" from its checkpoint when it has
// one, else "started" from its config.yaml (with --force, since that
// config.yaml is the only file there, or what is left of a run interrupted
// before its first checkpoint).
func TrainArgs(td string) (args []string, verb string) {
	if _, err := os.Stat(rundir.Last(td)); err == nil {
		return []string{"train", "--resume", td}, "resumed"
	}
	return []string{"train", "--config", filepath.Join(td, rundir.ConfigFile), "--out", td, "--force"}, "started"
}

// forward copies r to log line by line, calling each for every line, and
// returns the last line that starts with "lepton:" (the error of a failed
// run).
func forward(r io.Reader, log io.Writer, each func(string)) string {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(log, line)
		each(line)
		if strings.HasPrefix(line, "lepton:") {
			last = line
		}
	}
	io.Copy(io.Discard, r)
	return last
}

// trialEnv is env without the LEPTON_* variables of config keys.
func trialEnv(env []string) []string {
	drop := map[string]bool{}
	for _, k := range config.Reference() {
		if k.Env != "" {
			drop[k.Env] = true
		}
	}
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			out = append(out, kv)
		}
	}
	return out
}

// ConfigEnv lists the LEPTON_* variables of config keys set in env, which
// a sweep's trials ignore.
func ConfigEnv(env []string) []string {
	kept := map[string]bool{}
	for _, kv := range trialEnv(env) {
		kept[kv] = true
	}
	var out []string
	for _, kv := range env {
		if !kept[kv] {
			name, _, _ := strings.Cut(kv, "=")
			out = append(out, name)
		}
	}
	return out
}

// plural renders "1 thread", "2 threads".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
