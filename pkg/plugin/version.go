package plugin

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/version"
)

// VersionOptions prints the plugin's build information.
type VersionOptions struct {
	*Globals
	output *outputFlags
}

// NewCmdVersion builds `kubectl irsa version`.
func NewCmdVersion(g *Globals) *cobra.Command {
	o := &VersionOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and build date of kubectl irsa",
		Example: "  kubectl irsa version\n  kubectl irsa version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Complete()
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run()
		},
	}
	o.output.addFlags(cmd)
	return cmd
}

// Complete has nothing to complete: the version is built in.
func (o *VersionOptions) Complete() {}

// Validate checks the output format.
func (o *VersionOptions) Validate() error { return o.output.validate() }

// Run prints the version.
func (o *VersionOptions) Run() error {
	info := api.NewVersionInfo(version.Version, version.Commit, version.Date, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	if !o.output.human() {
		return o.output.printObject(info, o.Out)
	}
	_, err := fmt.Fprintf(o.Out, "kubectl irsa %s (commit %s, built %s, %s, %s)\n", info.Version, info.Commit, info.Date, info.GoVersion, info.Platform)
	return err
}
