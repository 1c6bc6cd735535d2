package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/data"
)

func newDataCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Get and inspect data sets (CIFAR-10/100, MNIST, Fashion-MNIST, image folders)",
		Long: `Get and inspect the data sets lepton trains on: CIFAR-10 and CIFAR-100
(binary versions), MNIST and Fashion-MNIST (IDX files), and folders of your
own images laid out DIR/<class>/**/<image>.

A data set's location is, in this order: --data, data.dir in the config,
$LEPTON_DATA_DIR (or its sub-directory named after the data set: cifar-10,
cifar-100, mnist, fashion-mnist), else $XDG_CACHE_HOME/lepton/<name>
(~/.cache/lepton/<name>). Folders are always given with --data or data.dir.`,
		Example: `  lepton data fetch
  lepton data fetch fashion-mnist --from /usr/share/datasets/fashion-mnist
  lepton data info --output json
  lepton data info --data ~/photos`,
	}
	cmd.AddCommand(newDataFetchCmd(s), newDataInfoCmd(s))
	return cmd
}

// fetchKinds are the data sets "lepton data fetch" knows.
var fetchKinds = []string{data.KindCIFAR10, data.KindCIFAR100, data.KindMNIST, data.KindFashionMNIST}

// dataFetchOptions are the flags of "lepton data fetch".
type dataFetchOptions struct {
	Kind      string
	Data      string
	From      string
	URL       string
	IfMissing bool
}

func newDataFetchCmd(s *streams) *cobra.Command {
	opts := &dataFetchOptions{}
	cmd := &cobra.Command{
		Use:   "fetch [cifar10|cifar100|mnist|fashion-mnist] [--from PATH]",
		Short: "Download (or import) a data set into its data directory",
		Long: `Download the official files of a data set (default cifar10), verify their
SHA-256 digests and install them into the data directory, with a progress bar
on stderr. --from imports a local copy instead (a directory, an archive, or
Debian's dataset-fashion-mnist in /usr/share/datasets/fashion-mnist), checking
its structure first. Files already installed with the same content are not
copied again. Image folders need no fetch.`,
		Example: `  lepton data fetch
  lepton data fetch mnist --data /srv/mnist
  lepton data fetch cifar10 --from ./cifar-10-batches-bin
  lepton data fetch --if-missing   # what "make train" runs`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Kind = data.KindCIFAR10
			if len(args) == 1 {
				opts.Kind = args[0]
			}
			if opts.Kind == data.KindFolder {
				return usageError{errors.New("an image folder needs no fetch: give it to train with --data DIR (or data.dir)")}
			}
			if !slices.Contains(fetchKinds, opts.Kind) {
				return usageError{fmt.Errorf("unknown data set %q: want one of %s", opts.Kind, strings.Join(fetchKinds, ", "))}
			}
			return dataFetchRun(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "", "destination `dir`")
	f.StringVar(&opts.From, "from", "", "import a local `path` (directory or archive) instead of downloading")
	f.StringVar(&opts.URL, "url", "", "download from this `url` (a tarball, or the directory of the IDX files) instead of the official one")
	f.BoolVar(&opts.IfMissing, "if-missing", false, "do nothing when the data set is already there and valid; refuse (with its problem) when it is there but invalid")
	return cmd
}

func dataFetchRun(cmd *cobra.Command, s *streams, opts *dataFetchOptions) error {
	dir := data.ResolveLocation(opts.Kind, opts.Data, "", s.Getenv)
	if opts.IfMissing {
		_, err := data.Info(cmd.Context(), data.Spec{Kind: opts.Kind, Dir: dir})
		if err == nil {
			fmt.Fprintf(s.Err, "lepton: %s is in %s\n", opts.Kind, dir)
			return nil
		}
		if !errors.Is(err, data.ErrNoData) {
			return err // there, but unusable: say why instead of downloading
		}
	}
	err := data.Fetch(cmd.Context(), data.FetchOptions{
		Kind: opts.Kind, Dir: dir, From: opts.From, URL: opts.URL,
		Progress: s.Err, Interactive: s.ErrTTY,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "lepton: %s is in %s\n", opts.Kind, dir)
	return nil
}

// dataInfoOptions are the flags of "lepton data info".
type dataInfoOptions struct {
	Data    string
	Dataset string
	Config  string
	Sets    []string
	Output  string
}

func newDataInfoCmd(s *streams) *cobra.Command {
	opts := &dataInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show images per class in each split, each file's SHA-256, a folder's skipped files and cache",
		Long: `Read a data set as training does, validating every image and label, and show
its classes and geometry, the images per class in each split, and each file's
size and SHA-256; for an image folder its skipped files, its ignored files and
the state of its decode cache (reading a folder fills the cache).

The data set is --dataset (or data.dataset of --config), else what --data
holds; --config and --set give the data section of a training config
(image size, channels, resize, test split).`,
		Example: `  lepton data info
  lepton data info --dataset mnist
  lepton data info --data ~/photos
  lepton data info --config configs/folder.yaml --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Output != "text" && opts.Output != "json" {
				return usageError{fmt.Errorf("--output %q: want text or json", opts.Output)}
			}
			if opts.Dataset != "" && !slices.Contains(data.Kinds(), opts.Dataset) {
				return usageError{fmt.Errorf("--dataset %q: want one of %s", opts.Dataset, strings.Join(data.Kinds(), ", "))}
			}
			return dataInfoRun(cmd, s, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Data, "data", "", "data set `dir` or archive")
	f.StringVar(&opts.Dataset, "dataset", "", "data set `kind`: "+strings.Join(data.Kinds(), ", "))
	f.StringVarP(&opts.Config, "config", "c", "", "take the data section of this YAML config `file`")
	f.StringArrayVar(&opts.Sets, "set", nil, "override a config `key=value` (repeatable)")
	f.StringVar(&opts.Output, "output", "text", "output `format`: text or json")
	return cmd
}

func dataInfoRun(cmd *cobra.Command, s *streams, opts *dataInfoOptions) error {
	// Without --config and --set this is the default config (and the
	// LEPTON_* variables): CIFAR-10, or what --data holds.
	cfg, err := loadConfig(s, opts.Config, opts.Sets)
	if err != nil {
		return err
	}
	spec := cfg.DataSpec()
	switch {
	case opts.Dataset != "":
		spec.Kind = opts.Dataset
	case opts.Config == "" && len(opts.Sets) == 0 && opts.Data != "":
		if kind := data.Detect(opts.Data); kind != "" {
			spec.Kind = kind
		}
	}
	spec.Dir = data.ResolveLocation(spec.Kind, opts.Data, cfg.Data.Dir, s.Getenv)
	spec.CacheDir = data.CacheRoot(s.Getenv)
	spec.Log, spec.Progress = s.Err, s.Err
	rep, err := data.Info(cmd.Context(), spec)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteText(s.Out)
}
