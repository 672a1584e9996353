package plugin

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// completionShells are the shells `kubectl irsa completion` writes a script for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// serviceAccountCommands are the subcommands whose first argument is a ServiceAccount: registerCompletions gives
// each one that exists, and has no completion of its own, ServiceAccount name completion.
var serviceAccountCommands = []string{"link", "unlink", "annotate", "test", "doctor"}

// completionTimeout bounds each API call made for a <TAB>, so completion never hangs on an unreachable cluster.
const completionTimeout = 5 * time.Second

// scriptProgram is the program the scripts of `kubectl irsa completion` complete: the plugin binary called
// directly. `kubectl irsa <TAB>` goes through kubectl's own completion and kubectl_complete-irsa instead.
const scriptProgram = "kubectl-irsa"

// NewCmdCompletion builds `kubectl irsa completion bash|zsh|fish|powershell`.
func NewCmdCompletion(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for kubectl-irsa",
		Long: `Completion prints a shell completion script (cobra's) for the plugin binary called directly, kubectl-irsa.

For "kubectl irsa <TAB>", kubectl 1.26 or later completes plugins itself once kubectl's own completion is set up
(source <(kubectl completion bash)): it runs the executable kubectl_complete-irsa from PATH. "make build" builds
bin/kubectl_complete-irsa; with a krew install, create it as a two-line script:

  printf '#!/bin/sh\nexec kubectl irsa __complete "$@"\n' > ~/bin/kubectl_complete-irsa
  chmod +x ~/bin/kubectl_complete-irsa

Both complete subcommands, flags, namespaces (-n), contexts (--context) and, for link, unlink, annotate, test
and doctor, the names of the namespace's ServiceAccounts.`,
		Example: `  # bash, for this shell
  source <(kubectl irsa completion bash)
  # zsh, for every shell (fpath must hold the directory)
  kubectl irsa completion zsh > "${fpath[1]}/_kubectl-irsa"
  # fish
  kubectl irsa completion fish > ~/.config/fish/completions/kubectl-irsa.fish
  # PowerShell
  kubectl irsa completion powershell | Out-String | Invoke-Expression`,
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs:             completionShells,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return writeCompletionScript(cmd.Root(), args[0], g.Out)
		},
	}
}

// writeCompletionScript writes cobra's completion script for shell. Cobra names the completed program after the
// root command ("irsa"); the script is for the binary users can run, kubectl-irsa, so the root is renamed while
// the script is written.
func writeCompletionScript(root *cobra.Command, shell string, out io.Writer) error {
	use := root.Use
	root.Use = scriptProgram
	defer func() { root.Use = use }()
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(out, true)
	case "zsh":
		return root.GenZshCompletion(out)
	case "fish":
		return root.GenFishCompletion(out, true)
	case "powershell":
		return root.GenPowerShellCompletionWithDesc(out)
	}
	return fmt.Errorf("unsupported shell %q: use one of %s", shell, strings.Join(completionShells, ", "))
}

// registerCompletions wires dynamic completion into the command tree; NewCmdIRSA calls it once, after adding
// every subcommand. It replaces cobra's default completion command with NewCmdCompletion, completes -n with the
// cluster's namespaces and --context with the kubeconfig's contexts, and gives the ServiceAccount commands that
// exist (see serviceAccountCommands) ServiceAccount name completion.
func registerCompletions(root *cobra.Command, g *Globals) {
	root.CompletionOptions.DisableDefaultCmd = true
	_ = root.RegisterFlagCompletionFunc("namespace", g.completeNamespaces)
	_ = root.RegisterFlagCompletionFunc("context", g.completeContexts)
	for _, cmd := range root.Commands() {
		if !slices.Contains(serviceAccountCommands, cmd.Name()) {
			continue
		}
		// A command that completes its arguments itself keeps its own completion.
		if cmd.ValidArgsFunction == nil && len(cmd.ValidArgs) == 0 {
			cmd.ValidArgsFunction = g.completeServiceAccounts
		}
	}
}

// completionDescMax bounds a completion description, in runes.
const completionDescMax = 100

// completeServiceAccounts completes the first argument with the ServiceAccounts of the namespace (-n, else the
// context's), described by their role annotation.
func (g *Globals) completeServiceAccounts(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ns, err := g.Factory.Namespace()
	if err != nil {
		cobra.CompDebugln(err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	kube, err := g.Factory.KubeClient()
	if err != nil {
		cobra.CompDebugln(err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(completionContext(cmd), completionTimeout)
	defer cancel()
	list, err := cluster.ListServiceAccounts(ctx, kube, ns)
	if err != nil {
		cobra.CompDebugln(err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var comps []cobra.Completion
	for _, sa := range list {
		if !strings.HasPrefix(sa.Name, toComplete) {
			continue
		}
		desc := "not linked to an IAM role"
		if arn := sa.Annotations[iamref.RoleARNAnnotation]; arn != "" {
			// Whoever can annotate a ServiceAccount writes here: escaped and cut like every other output.
			desc = safetext.Short(arn, completionDescMax)
		}
		comps = append(comps, cobra.CompletionWithDesc(sa.Name, desc))
	}
	return comps, cobra.ShellCompDirectiveNoFileComp
}

// completeNamespaces completes -n with the cluster's namespaces.
func (g *Globals) completeNamespaces(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	kube, err := g.Factory.KubeClient()
	if err != nil {
		cobra.CompDebugln(err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(completionContext(cmd), completionTimeout)
	defer cancel()
	list, err := cluster.ListNamespaces(ctx, kube)
	if err != nil {
		cobra.CompDebugln(err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var comps []cobra.Completion
	for _, ns := range list {
		if strings.HasPrefix(ns.Name, toComplete) {
			comps = append(comps, ns.Name)
		}
	}
	return comps, cobra.ShellCompDirectiveNoFileComp
}

// completeContexts completes --context with the kubeconfig's contexts (no API call).
func (g *Globals) completeContexts(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	raw, err := g.Flags.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		cobra.CompDebugln(err.Error(), true)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var comps []cobra.Completion
	for name := range raw.Contexts {
		if strings.HasPrefix(name, toComplete) {
			comps = append(comps, name)
		}
	}
	slices.Sort(comps)
	return comps, cobra.ShellCompDirectiveNoFileComp
}

func completionContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
