package plugin

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
)

// scopeFlags are -A and the namespace of the read commands.
type scopeFlags struct {
	allNamespaces bool
	// namespace is "" for all namespaces.
	namespace string
}

func (s *scopeFlags) addFlags(cmd *cobra.Command, usage string) {
	cmd.Flags().BoolVarP(&s.allNamespaces, "all-namespaces", "A", false, usage)
}

func (s *scopeFlags) complete(f Factory) error {
	if s.allNamespaces {
		return nil
	}
	ns, err := f.Namespace()
	s.namespace = ns
	return err
}

// inspector connects to Kubernetes and AWS for the read commands. Without awsRequired, AWS that cannot be
// configured skips the AWS checks (a could-not-check note) instead of failing.
func (g *Globals) inspector(ctx context.Context, awsRequired bool) (*inspect.Inspector, error) {
	kube, err := g.Factory.KubeClient()
	if err != nil {
		return nil, err
	}
	in := &inspect.Inspector{Kube: kube, Cluster: g.Factory.ClusterRef()}
	clients, err := g.Factory.AWS(ctx)
	switch {
	case err == nil:
		in.IAM, in.EKS, in.Addons, in.AccountDetails = clients.IAM, clients.EKS, clients.EKS, clients.AccountDetails
		in.Accounts, in.ListThreshold = inspectAccounts(g, clients), roleListThreshold()
		in.Quotas = clients.IAM
	case awsRequired:
		return nil, err
	default:
		in.CouldNotCheck("IAM and EKS (AWS checks skipped)", err)
	}
	iss, err := g.discoverIssuer(ctx, "", "", false)
	if err != nil {
		return nil, err
	}
	in.Issuer = iss.Issuer
	return in, nil
}

// exitStatus is the read commands' contract: 1 with findings, else 2 when a check could not run, else 0.
func exitStatus(findings bool, couldNotCheck []string) error {
	switch {
	case findings:
		return &ExitError{Code: 1}
	case len(couldNotCheck) > 0:
		return &ExitError{Code: 2, Err: fmt.Errorf("incomplete: %d check(s) could not run", len(couldNotCheck))}
	}
	return nil
}

// RoleListThresholdEnv, a whole number, replaces inspect.DefaultListThreshold (the number of roles of one
// account above which the read commands list roles instead of reading each): a very large one forces one
// iam:GetRole per role. It exists for tests and benchmarks that compare both strategies on one fleet.
const RoleListThresholdEnv = "KUBECTL_IRSA_ROLE_LIST_THRESHOLD"

// roleListThreshold is RoleListThresholdEnv's value (0, the default, when unset or not a positive number).
func roleListThreshold() int {
	if n, err := strconv.Atoi(os.Getenv(RoleListThresholdEnv)); err == nil && n > 0 {
		return n
	}
	return 0
}
