package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/data"
)

func newDataCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Get and inspect the CIFAR-10 data set",
		Long: `Get and inspect the CIFAR-10 data set (binary version).

The data location is, in this order: --data, data.dir in the config,
$LEPTON_DATA_DIR, else $XDG_CACHE_HOME/lepton/cifar-10 (~/.cache/lepton/cifar-10).`,
		Example: `  lepton data fetch
  lepton data fetch --from ~/Downloads/cifar-10-binary.tar.gz
  lepton data info --output json`,
	}
	cmd.AddCommand(newDataFetchCmd(s), newDataInfoCmd(s))
	return cmd
}

// dataFetchOptions are the flags of "lepton data fetch".
type dataFetchOptions struct {
	Data string
	From string
	URL  string
}

func newDataFetchCmd(s *streams) *cobra.Command {
	opts := &dataFetchOptions{}
	cmd := &cobra.Command{
		Use:   "fetch [--from PATH]",
		Short: "Download (or import) CIFAR-10 into the data directory",
		Long: `Download the official cifar-10-binary.tar.gz, verify its SHA-256 and unpack
it into the data directory, with a progress bar on stderr. --from imports a
local directory or tarball instead (for offline machines), checking its
structure first.`,
		Example: `  lepton data fetch
  lepton data fetch --data /srv/cifar
  lepton data fetch --from ./cifar-10-batches-bin`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := data.ResolveDir(opts.Data, "", s.Getenv)
			err := data.Fetch(cmd.Context(), data.FetchOptions{
				Dir: dir, From: opts.From, URL: opts.URL,
				Progress: s.Err, Interactive: s.ErrTTY,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Err, "lepton: CIFAR-10 is in %s\n", dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "", "destination `dir`")
	f.StringVar(&opts.From, "from", "", "import a local `path` (directory or tarball) instead of downloading")
	f.StringVar(&opts.URL, "url", "", "download from this `url` instead of the official one")
	return cmd
}

// dataInfoOptions are the flags of "lepton data info".
type dataInfoOptions struct {
	Data   string
	Output string
}

func newDataInfoCmd(s *streams) *cobra.Command {
	opts := &dataInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show images per class in each split and each file's SHA-256",
		Example: `  lepton data info
  lepton data info --data ~/cifar --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Output != "text" && opts.Output != "json" {
				return usageError{fmt.Errorf("--output %q: want text or json", opts.Output)}
			}
			rep, err := data.Info(data.ResolveDir(opts.Data, "", s.Getenv))
			if err != nil {
				return err
			}
			if opts.Output == "json" {
				enc := json.NewEncoder(s.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return rep.WriteText(s.Out)
		},
	}
	cmd.Flags().StringVar(&opts.Data, "data", "", "CIFAR-10 data `dir` or archive")
	cmd.Flags().StringVar(&opts.Output, "output", "text", "output `format`: text or json")
	return cmd
}
