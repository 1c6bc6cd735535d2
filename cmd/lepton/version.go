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
// otherwise both come from the build information Go records: the module
// version of "go install github.com/lepton-cli/lepton/cmd/lepton@v1.2.0"
// (or the VCS-derived version of a go build in a checkout), and the VCS
// commit.
var (
	version = "dev"
	commit  = ""
)

// buildInfo describes this build.
type buildInfo struct {
	version, commit string
	modified        bool
}

// readBuildInfo combines the -ldflags values with Go's build information
// (info may be nil).
func readBuildInfo(ldVersion, ldCommit string, info *debug.BuildInfo) buildInfo {
	b := buildInfo{version: ldVersion, commit: ldCommit}
	if info == nil {
		return b
	}
	if (b.version == "" || b.version == "dev") && info.Main.Version != "" && info.Main.Version != "(devel)" {
		b.version = info.Main.Version
	}
	if b.commit == "" {
		for _, kv := range info.Settings {
			switch kv.Key {
			case "vcs.revision":
				b.commit = kv.Value
			case "vcs.modified":
				b.modified = kv.Value == "true"
			}
		}
	}
	return b
}

// versionText is what "lepton version" and "lepton --version" print.
func versionText() string {
	info, _ := debug.ReadBuildInfo()
	b := readBuildInfo(version, commit, info)
	c := b.commit
	if c == "" {
		c = "unknown"
	}
	if b.modified {
		c += " (modified)"
	}
	return fmt.Sprintf("lepton %s\ncommit %s\ngo %s %s/%s\nblas %s\n",
		b.version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH, blasPath())
}

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print lepton's version, commit, Go version and compute path",
		Long:    `Print lepton's version, commit, Go version and compute path; "lepton --version" prints the same.`,
		Example: `  lepton version`,
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(s.Out, versionText())
			return err
		},
	}
}

// blasPath names the matrix-multiply implementation under Gorgonia.
func blasPath() string {
	return "lepton sgemm, " + blas.New(1).Kernel() + " kernel (gonum for other BLAS routines)"
}
