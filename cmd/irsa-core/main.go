// Command irsa-core is the full command line of the kubectl irsa plugin: kubectl-irsa (cmd/kubectl-irsa) runs
// it, next to itself, for every command it does not serve itself.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(plugin.Execute(plugin.NewCmdIRSA(streams), streams))
}
