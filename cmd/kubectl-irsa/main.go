// Command kubectl-irsa is the kubectl plugin that sets up, diagnoses and tests IAM Roles for Service Accounts.
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
