// Command lepton trains, evaluates and serves small neural networks
// (multi-layer perceptrons) on CIFAR-10 images.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
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
	code := execute(ctx, s, os.Args[1:])
	if got := sig.received(); got != nil && ctx.Err() != nil {
		fmt.Fprintf(s.Err, "lepton: interrupted by %v\n", got)
		return signalExit(got)
	}
	return code
}

// execute runs the command line args and returns the exit code, reporting
// any error as one line on stderr.
func execute(ctx context.Context, s *streams, args []string) int {
	root := newRootCmd(s)
	root.SetArgs(args)
	err := checkCommand(root, args)
	if err == nil {
		err = root.ExecuteContext(ctx)
	}
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return exitSIGINT // the caller reports the signal
	}
	if !silent(err) {
		fmt.Fprintf(s.Err, "lepton: %v\n", err)
	}
	return exitCode(err)
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
