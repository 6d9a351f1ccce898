package cli

import (
	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/token"
)

const completionExample = `  # this shell only
  source <(iamgate completion bash)
  # every new shell
  iamgate completion bash > ~/.local/share/bash-completion/completions/iamgate
  iamgate completion zsh > "${fpath[1]}/_iamgate"
  iamgate completion fish > ~/.config/fish/completions/iamgate.fish`

// addCompletion adds cobra's "completion bash|zsh|fish|powershell" command
// with an example, and value completion for the flags that take one of a
// few words. The scripts call "iamgate __complete ...", which the lean front
// passes to the core like any command other than token.
func addCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = completionExample
			for _, sh := range c.Commands() {
				sh.Example = "  iamgate completion " + sh.Name()
			}
		}
	}
	words := map[string][]string{
		"log-format":   {"text", "json"},
		"backend-mode": {config.BackendMountedFile, config.BackendEKSConfigMap, config.BackendCRD, config.BackendDynamicFile},
		"partition":    token.Partitions(),
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for name, list := range words {
			if c.Flags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(list, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		if c.Flags().Lookup("config") != nil {
			_ = c.MarkFlagFilename("config", "yaml", "yml")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if v, _, err := root.Find([]string{"version"}); err == nil && v.Name() == "version" {
		_ = v.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	}
}
