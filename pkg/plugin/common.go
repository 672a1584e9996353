package plugin

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/irsa"
)

// session holds what most subcommands need once flags are complete: the Kubernetes client, the AWS clients
// and the cluster's issuer.
type session struct {
	linker  *irsa.Linker
	cluster irsa.ClusterRef
	issuer  *irsa.IssuerResult
}

// newSession connects to Kubernetes and AWS and finds the issuer (API server discovery first, so no AWS call
// is spent on it when the API server answers).
func (g *Globals) newSession(ctx context.Context, tokenNamespace string) (*session, error) {
	kube, _, err := g.KubeClient()
	if err != nil {
		return nil, err
	}
	cfg, err := g.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	aws := irsa.NewAWSClients(cfg)
	cluster := g.ClusterRef()
	disc := &irsa.IssuerDiscovery{Kube: kube, EKS: aws.EKS, Cluster: cluster, TokenNamespace: tokenNamespace, TokenServiceAccount: "default"}
	iss, err := disc.Discover(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range iss.Warnings {
		fmt.Fprintf(g.ErrOut, "warning: %s\n", w)
	}
	return &session{
		linker:  &irsa.Linker{Kube: kube, IAM: aws.IAM, STS: aws.STS, Issuer: iss.Issuer, Thumbprint: irsa.TLSThumbprint},
		cluster: cluster,
		issuer:  iss,
	}, nil
}

// printActions writes a result's actions, one per line, in plan form (+ create, ~ change, = unchanged).
func printActions(w io.Writer, res *irsa.Result) {
	for _, a := range res.Actions {
		status := ""
		switch a.Status {
		case irsa.StatusRolledBack, irsa.StatusFailed:
			status = " [" + a.Status + "]"
		}
		fmt.Fprintf(w, "  %s %s: %s%s\n", a.Op, a.Resource, a.Detail, status)
	}
}

// printHints writes follow-up hints to stderr.
func printHints(w io.Writer, res *irsa.Result) {
	for _, h := range res.Hints {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
	if res.Provider != nil && res.Provider.Note != "" {
		fmt.Fprintf(w, "note: %s\n", res.Provider.Note)
	}
}

// splitNamespaced parses NS/NAME.
func splitNamespaced(s string) (string, string, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			if i == 0 || i == len(s)-1 {
				break
			}
			return s[:i], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("%q is not NAMESPACE/NAME", s)
}

// permissionFlags are the flags that grant a role permissions, shared by link and role create.
type permissionFlags struct {
	actions    []string
	attach     []string
	policyFile string
}

func (p *permissionFlags) addFlags(f *pflag.FlagSet) {
	f.StringSliceVar(&p.actions, "allow", nil, "actions to allow in the role's inline policy kubectl-irsa, as service:Action (comma-separated)")
	f.StringArrayVar(&p.attach, "attach-policy-arn", nil, "managed policy to attach (repeatable)")
	f.StringVar(&p.policyFile, "policy-file", "", "JSON policy document to write as the role's inline policy kubectl-irsa")
}

// read validates the actions and policy ARNs and reads the policy file.
func (p *permissionFlags) read() (actions []string, policyFile []byte, err error) {
	if actions, err = irsa.ParseActions(p.actions); err != nil {
		return nil, nil, err
	}
	for _, a := range p.attach {
		if err := irsa.ValidatePolicyARN(a); err != nil {
			return nil, nil, err
		}
	}
	if p.policyFile != "" {
		if policyFile, err = os.ReadFile(p.policyFile); err != nil {
			return nil, nil, fmt.Errorf("cannot read --policy-file: %w", err)
		}
	}
	return actions, policyFile, nil
}
