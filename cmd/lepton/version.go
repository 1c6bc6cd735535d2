package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/blas"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=..." (the Makefile does);
// otherwise the commit comes from Go's VCS stamping when available.
var (
	version = "dev"
	commit  = ""
)

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print lepton's version, commit, Go version and compute path",
		Example: `  lepton version`,
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			commit, modified := commit, ""
			if info, ok := debug.ReadBuildInfo(); ok && commit == "" {
				for _, kv := range info.Settings {
					switch kv.Key {
					case "vcs.revision":
						commit = kv.Value
					case "vcs.modified":
						if kv.Value == "true" {
							modified = " (modified)"
						}
					}
				}
			}
			if commit == "" {
				commit = "unknown"
			}
			_, err := fmt.Fprintf(s.Out, "lepton %s\ncommit %s%s\ngo %s %s/%s\nblas %s\n",
				version, commit, modified, runtime.Version(), runtime.GOOS, runtime.GOARCH, blasPath())
			return err
		},
	}
}

func errRequired(flag string) error { return fmt.Errorf("%s is required", flag) }

// blasPath names the matrix-multiply implementation under Gorgonia.
func blasPath() string {
	return "lepton sgemm, " + blas.New(1).Kernel() + " kernel (gonum for other BLAS routines)"
}
