// Command kubectl-irsa is the kubectl plugin that sets up, diagnoses and tests IAM Roles for Service Accounts
// and EKS Pod Identity. It serves a logs-only doctor itself and runs the full CLI, irsa-core, for the rest
// (see package entry).
package main

import (
	"os"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/entry"
)

func main() {
	os.Exit(entry.Main(os.Args, entry.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
