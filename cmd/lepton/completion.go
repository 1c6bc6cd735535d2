package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCompletionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell to stdout (cobra's generators):
commands, flags and their descriptions complete with TAB.

bash (needs the bash-completion package):
  source <(lepton completion bash)              # this shell
  lepton completion bash > /etc/bash_completion.d/lepton
zsh:
  lepton completion zsh > "${fpath[1]}/_lepton"  # then start a new shell
fish:
  lepton completion fish > ~/.config/fish/completions/lepton.fish
powershell:
  lepton completion powershell | Out-String | Invoke-Expression`,
		Example: `  source <(lepton completion bash)
  lepton completion zsh > "${fpath[1]}/_lepton"
  lepton completion fish > ~/.config/fish/completions/lepton.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(s.Out, true)
			case "zsh":
				return root.GenZshCompletion(s.Out)
			case "fish":
				return root.GenFishCompletion(s.Out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(s.Out)
			}
			return usageError{fmt.Errorf("unknown shell %q: want bash, zsh, fish or powershell", args[0])}
		},
	}
}
