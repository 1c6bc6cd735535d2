// Command lepton trains, evaluates and serves small neural networks
// (multi-layer perceptrons) on CIFAR-10 images.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/lepton-cli/lepton/internal/engine"
)

func main() {
	os.Exit(mainRun())
}

func mainRun() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := watchSignals(cancel)

	s := &streams{
		In:      os.Stdin,
		Out:     os.Stdout,
		Err:     os.Stderr,
		ErrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		Getenv:  os.Getenv,
		Environ: os.Environ,
	}
	code, err := execute(ctx, s, os.Args[1:])
	if got := sig.received(); got != nil && ctx.Err() != nil && !drained(err) {
		fmt.Fprintf(s.Err, "lepton: %s\n", interruptMessage(got, err))
		return signalExit(got)
	}
	return code
}

// execute runs the command line args and returns the exit code and the
// error, reporting the error as one line on stderr unless it is an
// interruption (the caller reports the signal).
func execute(ctx context.Context, s *streams, args []string) (int, error) {
	// LEPTON_KERNEL first: "lepton --version" reports the kernel too.
	_, err := engine.ForceKernel(s.Getenv(engine.EnvKernel))
	if err != nil {
		err = usageError{err}
	} else {
		root := newRootCmd(s)
		root.SetArgs(args)
		if err = checkCommand(root, args); err == nil {
			err = root.ExecuteContext(ctx)
		}
	}
	if err == nil {
		return exitOK, nil
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return exitSIGINT, err
	}
	if !silent(err) {
		// One line per error; several (a config's mistakes) each get theirs.
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(s.Err, "lepton: %s\n", line)
		}
	}
	return exitCode(err), err
}

// interruptedError is a training run stopped by a signal; saved says its
// run directory holds a resumable checkpoint.
type interruptedError struct {
	dir   string
	saved bool
	err   error
}

func (e interruptedError) Error() string { return "run " + e.dir + ": " + e.err.Error() }
func (e interruptedError) Unwrap() error { return e.err }

// interruptMessage is the line reporting an interruption by sig; for a
// training run it says how to resume.
func interruptMessage(sig os.Signal, err error) string {
	name := "SIGINT"
	if sig == syscall.SIGTERM {
		name = "SIGTERM"
	}
	var in interruptedError
	switch {
	case !errors.As(err, &in):
		return fmt.Sprintf("interrupted (%s)", name)
	case in.saved:
		return fmt.Sprintf("interrupted (%s): checkpoint saved; resume with: lepton train --resume %s", name, shellQuote(in.dir))
	}
	return fmt.Sprintf("interrupted (%s) before the first checkpoint; start again with: lepton train --resume %s", name, shellQuote(in.dir))
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_./:=+,@%.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:=+,@%", r)))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// signals records the first termination signal; a second one exits at once.
type signals struct{ ch chan os.Signal }

func watchSignals(cancel context.CancelFunc) *signals {
	s := &signals{ch: make(chan os.Signal, 1)}
	in := make(chan os.Signal, 2)
	signal.Notify(in, os.Interrupt, syscall.SIGTERM)
	go func() {
		first := <-in
		s.ch <- first
		cancel()
		second := <-in
		fmt.Fprintf(os.Stderr, "lepton: %v again, exiting now\n", second)
		os.Exit(signalExit(second))
	}()
	return s
}

func (s *signals) received() os.Signal {
	select {
	case v := <-s.ch:
		s.ch <- v
		return v
	default:
		return nil
	}
}

func signalExit(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitSIGTERM
	}
	return exitSIGINT
}
