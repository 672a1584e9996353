// Command kubectl_complete-irsa completes `kubectl irsa <TAB>`. kubectl 1.26 and later, when completing a plugin,
// run kubectl_complete-PLUGIN from PATH with the words typed after the plugin name (the last one being the word
// to complete, "" for a new one) and read cobra-style completions back. This binary answers with the plugin's
// own command tree: subcommands, flags, namespaces and ServiceAccount names (see pkg/plugin/completion.go).
package main

import (
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := plugin.NewCmdIRSA(streams)
	cmd.SetArgs(completionArgs(os.Args[1:]))
	os.Exit(plugin.Execute(cmd, streams))
}

// completionArgs turns kubectl's call (`kubectl_complete-irsa link -n ""`) into cobra's completion request
// (`__complete link -n ""`). Arguments that already start with __complete or __completeNoDesc, as when the
// binary is called by hand or by a cobra completion script, are kept as they are.
func completionArgs(args []string) []string {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return args
	}
	if len(args) == 0 {
		args = []string{""}
	}
	return append([]string{cobra.ShellCompRequestCmd}, args...)
}
