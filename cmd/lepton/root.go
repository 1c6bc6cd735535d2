package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/engine"
)

// streams are the command's input and output, injected so that tests can
// capture them and nothing writes to os.Stdout directly.
type streams struct {
	In      io.Reader
	Out     io.Writer // data for programs
	Err     io.Writer // messages, progress and logs for people
	ErrTTY  bool      // stderr is a terminal: progress bars are allowed
	Getenv  func(string) string
	Environ func() []string // the LEPTON_* config overrides are read from it
}

var (
	cpuProfile  string
	profileFile *os.File
)

// startProfile starts CPU profiling into path, if given.
func startProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	profileFile = f
	return pprof.StartCPUProfile(f)
}

func stopProfile() {
	if profileFile != nil {
		pprof.StopCPUProfile()
		profileFile.Close()
		profileFile = nil
	}
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "lepton",
		Short: "Train, evaluate and serve small neural networks on CIFAR-10",
		Long: `lepton trains multi-layer perceptrons on CIFAR-10 with Gorgonia, evaluates
checkpoints on the test set and classifies image files.

Data goes to stdout (text, JSON, CSV); logs and progress go to stderr.
lepton prints no colour, so NO_COLOR needs nothing more; progress bars are
drawn only when stderr is a terminal.`,
		Example: `  lepton data fetch
  run=$(lepton train --config configs/mlp.yaml)
  lepton eval --checkpoint "$run/checkpoints/best.safetensors" --output json
  lepton predict cat.png dog.jpg`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// All cores and lepton's matrix kernels by default; train applies train.threads.
		PersistentPreRunE: func(*cobra.Command, []string) error {
			engine.Configure(engine.Settings{})
			return startProfile(cpuProfile)
		},
		PersistentPostRun: func(*cobra.Command, []string) { stopProfile() },
	}
	root.Version = "set: --version prints versionText"
	root.SetVersionTemplate(strings.ReplaceAll(versionText(), "{{", "{{`{{`}}"))
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to `file` (for pprof)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newTrainCmd(s, nil),
		newEvalCmd(s, nil),
		newPredictCmd(s, nil),
		newServeCmd(s, nil),
		newDataCmd(s),
		newConfigCmd(s),
		newVersionCmd(s),
		newRunsCmd(s, nil),
		newReportCmd(s, nil),
		newExportCmd(s, nil),
		newSweepCmd(s, nil),
		newCompletionCmd(s),
	)
	return root
}

// exactArgs is cobra.ExactArgs with usage errors.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}

// checkCommand returns a one-line usage error (exit 2) when args name no
// command, instead of cobra's multi-line error (exit 1).
func checkCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return nil // added by cobra when it executes
	}
	root.InitDefaultHelpCmd()
	c, rest, err := root.Find(args)
	if err == nil || c != root {
		return nil
	}
	name := ""
	for _, a := range rest {
		if !strings.HasPrefix(a, "-") {
			name = a
			break
		}
	}
	return usageError{unknownCommand(root, name)}
}

// unknownCommand is the error for an unknown command name, suggesting the
// closest commands.
func unknownCommand(root *cobra.Command, name string) error {
	if root.SuggestionsMinimumDistance <= 0 {
		root.SuggestionsMinimumDistance = 2
	}
	hint := ""
	if s := root.SuggestionsFor(name); len(s) > 0 {
		hint = " (did you mean " + strings.Join(s, " or ") + "?)"
	}
	return fmt.Errorf("unknown command %q for %q%s; run \"lepton --help\" for the list", name, root.CommandPath(), hint)
}
