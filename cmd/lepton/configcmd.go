package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lepton-cli/lepton/internal/config"
)

func newConfigCmd(s *streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print or validate training configs",
		Example: `  lepton config print --config configs/mlp.yaml --set train.epochs=3
  lepton config validate configs/mlp.yaml`,
	}
	var file string
	var sets []string
	print := &cobra.Command{
		Use:   "print [--config FILE] [--set key=value]...",
		Short: "Print the fully resolved config as YAML",
		Long: `Print the fully resolved config (defaults, file, LEPTON_* environment,
--set overrides) as YAML on stdout.`,
		Example: `  lepton config print --config configs/mlp.yaml
  LEPTON_TRAIN_EPOCHS=3 lepton config print --set model.hidden=[256,128]`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := loadConfig(s, file, sets)
			if err != nil {
				return err
			}
			y, err := cfg.YAML()
			if err != nil {
				return err
			}
			_, err = s.Out.Write(y)
			return err
		},
	}
	print.Flags().StringVarP(&file, "config", "c", "", "YAML config `file`")
	print.Flags().StringArrayVar(&sets, "set", nil, "override a config `key=value` (repeatable)")
	validate := &cobra.Command{
		Use:     "validate FILE",
		Short:   "Check one config file",
		Example: `  lepton config validate configs/mlp.yaml && echo ok`,
		Args:    exactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if _, err := config.Load(config.LoadOptions{File: args[0]}); err != nil {
				return err
			}
			_, err := fmt.Fprintf(s.Err, "%s: ok\n", args[0])
			return err
		},
	}
	cmd.AddCommand(print, validate, newConfigKeysCmd(s))
	return cmd
}

// writeKeyReference writes the config reference as a Markdown table.
func writeKeyReference(w io.Writer) error {
	if _, err := fmt.Fprintln(w, "| key | type | default | env | description |\n| --- | --- | --- | --- | --- |"); err != nil {
		return err
	}
	for _, k := range config.Reference() {
		env := k.Env
		if env == "" {
			env = "–"
		} else {
			env = "`" + env + "`"
		}
		doc := strings.ReplaceAll(k.Doc, "|", "\\|")
		if _, err := fmt.Fprintf(w, "| `%s` | %s | `%s` | %s | %s |\n", k.Key, k.Type, k.Default, env, doc); err != nil {
			return err
		}
	}
	return nil
}

func newConfigKeysCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:     "keys",
		Short:   "List every config key with its type, default and environment variable (Markdown)",
		Example: `  lepton config keys`,
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			return writeKeyReference(s.Out)
		},
	}
}
