package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// newSetup connects to Kubernetes and AWS and finds the issuer (API server discovery first, so no AWS call is
// spent on it when the API server answers) for a write command. The issuer's warnings go to stderr.
func (g *Globals) newSetup(ctx context.Context, tokenNamespace string) (*setup.Setup, *cluster.IssuerResult, error) {
	iss, err := g.discoverIssuer(ctx, tokenNamespace, "default", false)
	if err != nil {
		return nil, nil, err
	}
	s, err := g.setupClients(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.Issuer = iss.Issuer
	return s, iss, nil
}

// setupClients is the write side's clients without the issuer, which EKS Pod Identity does not need.
func (g *Globals) setupClients(ctx context.Context) (*setup.Setup, error) {
	kube, err := g.Factory.KubeClient()
	if err != nil {
		return nil, err
	}
	clients, err := g.Factory.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return &setup.Setup{Kube: kube, IAM: clients.IAM, Accounts: setupAccounts(g, clients), Caller: g.Factory.Caller, Thumbprint: setup.TLSThumbprint,
		Exec: executorFrom(ctx), Quotas: &state.Quotas{}}, nil
}

// discoverIssuer finds the cluster's issuer and prints the discovery's warnings to stderr.
func (g *Globals) discoverIssuer(ctx context.Context, tokenNamespace, tokenServiceAccount string, compareAll bool) (*cluster.IssuerResult, error) {
	d, err := issuerDiscovery(ctx, g.Factory)
	if err != nil {
		return nil, err
	}
	d.TokenNamespace, d.TokenServiceAccount, d.CompareAll = tokenNamespace, tokenServiceAccount, compareAll
	iss, err := d.Discover(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range iss.Warnings {
		fmt.Fprintf(g.ErrOut, "warning: %s\n", safetext.String(w))
	}
	return iss, nil
}

// applyPlan applies a plan; on failure the actions (with their rolled-back or failed status) go to stderr.
func applyPlan(ctx context.Context, plan setup.Plan, human bool, errOut io.Writer) (*api.Result, error) {
	res, err := plan.Apply(ctx)
	if err != nil {
		if human && res != nil {
			printActions(errOut, res)
		}
		return nil, err
	}
	return res, nil
}

// printActions writes a result's actions, one per line, in plan form (+ create, ~ change, = unchanged).
func printActions(w io.Writer, res *api.Result) {
	for _, a := range res.Actions {
		status := ""
		switch a.Status {
		case api.StatusRolledBack, api.StatusFailed:
			status = " [" + a.Status + "]"
		}
		fmt.Fprintf(w, "  %s %s: %s%s\n", a.Op, safetext.String(a.Resource), safetext.String(a.Detail), status)
	}
}

// printHints writes follow-up hints to stderr.
func printHints(w io.Writer, res *api.Result) {
	for _, h := range res.Hints {
		fmt.Fprintf(w, "hint: %s\n", safetext.String(h))
	}
	if res.Provider != nil && res.Provider.Note != "" {
		fmt.Fprintf(w, "note: %s\n", safetext.String(res.Provider.Note))
	}
}

const dryRunHeader = "Plan (dry run: nothing is written):"

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

// validateServiceAccount checks a namespace and a ServiceAccount name.
func validateServiceAccount(namespace, name string) error {
	if err := cluster.ValidateNamespace(namespace); err != nil {
		return err
	}
	return cluster.ValidateServiceAccountName(name)
}

// permissionFlags are the flags that grant a role permissions, shared by link and role create.
type permissionFlags struct {
	actions    []string
	attach     []string
	policyFile string
	allowAdmin bool
}

func (p *permissionFlags) addFlags(f *pflag.FlagSet) {
	f.StringSliceVar(&p.actions, "allow", nil, "actions to allow, as service:Action (comma-separated), in the role's inline policy kubectl-irsa (link: as the ServiceAccount's own statement)")
	f.StringArrayVar(&p.attach, "attach-policy-arn", nil, "managed policy to attach (repeatable)")
	f.StringVar(&p.policyFile, "policy-file", "", "JSON policy document whose statements go into the role's inline policy kubectl-irsa (link: as the ServiceAccount's own statements)")
	f.BoolVar(&p.allowAdmin, "allow-admin", false, "grant administrator-equivalent permissions (refused without it: \"*\", iam:*, sts:*, organizations:*, an action that writes IAM policies, creates access keys or passes roles, or Allow with NotAction, on every resource; AdministratorAccess, IAMFullAccess, PowerUserAccess)")
}

// complete parses the actions and policy ARNs and reads and decodes the policy file, once.
func (p *permissionFlags) complete() (setup.Permissions, error) {
	actions, err := setup.ParseActions(p.actions)
	if err != nil {
		return setup.Permissions{}, fmt.Errorf("--allow: %w", err)
	}
	if len(actions) > 0 && p.policyFile != "" {
		return setup.Permissions{}, errors.New("use --allow or --policy-file, not both")
	}
	perms := setup.ActionsPolicy(actions)
	if p.policyFile != "" {
		b, err := readPolicyFile(p.policyFile)
		if err != nil {
			return setup.Permissions{}, err
		}
		if perms, err = setup.DocumentPolicy(b); err != nil {
			return setup.Permissions{}, fmt.Errorf("--policy-file %s: %w", p.policyFile, err)
		}
		if err := checkPolicyFileSize(p.policyFile, perms.Document); err != nil {
			return setup.Permissions{}, err
		}
	}
	for _, a := range p.attach {
		policy, err := iamref.ParsePolicy(a)
		if err != nil {
			return setup.Permissions{}, fmt.Errorf("--attach-policy-arn: %w", err)
		}
		perms.Attach = append(perms.Attach, policy)
	}
	if err := p.refuseAdmin(perms); err != nil {
		return setup.Permissions{}, err
	}
	return perms, nil
}

// refuseAdmin refuses administrator-equivalent permissions (trust.AdminGrants' rule, on the document that would
// be written, and the AWS managed admin policies) unless --allow-admin was given.
func (p *permissionFlags) refuseAdmin(perms setup.Permissions) error {
	if p.allowAdmin {
		return nil
	}
	source := "--allow"
	if p.policyFile != "" {
		source = "--policy-file " + p.policyFile
	}
	var grants []string
	if perms.Document != "" {
		if doc, err := trust.Parse(perms.Document); err == nil {
			for _, g := range doc.AdminGrants() {
				grants = append(grants, g.String())
			}
		}
	}
	for _, a := range perms.Attach {
		if a.Account == "aws" && slices.Contains(trust.AdminManagedPolicies, a.Name) {
			source = "--attach-policy-arn"
			grants = append(grants, a.Name+" is an AWS managed administrator policy")
		}
	}
	if len(grants) == 0 {
		return nil
	}
	return fmt.Errorf("%s grants administrator-equivalent access: %s; grant only the actions and resources the workload needs, or pass --allow-admin if it must have them", source, strings.Join(grants, "; "))
}

// maxPolicyFile bounds what is read of --policy-file (a file like /dev/zero must not exhaust memory): IAM's
// PolicyDocument parameter takes at most 131,072 characters, so no usable document, whitespace included, is
// larger. The document itself is held to IAM's size limit after it is compacted (setup.PolicySize).
const maxPolicyFile = 128 << 10

// readPolicyFile reads at most maxPolicyFile+1 bytes of the policy file.
func readPolicyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read --policy-file: %w", err)
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxPolicyFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read --policy-file %s: %w", path, err)
	}
	if len(b) > maxPolicyFile {
		return nil, fmt.Errorf("--policy-file %s is larger than %d bytes, far over IAM's limit of %d characters (whitespace not counted) for a role's inline policies: shorten it, or attach a managed policy with --attach-policy-arn", path, maxPolicyFile, setup.MaxInlinePolicySize)
	}
	return b, nil
}

// checkPolicyFileSize refuses a policy document over IAM's limit, counted as IAM counts it: characters without
// whitespace outside strings.
func checkPolicyFileSize(path, doc string) error {
	n, err := setup.PolicySize(doc)
	if err != nil {
		return fmt.Errorf("--policy-file %s: %w", path, err)
	}
	if n > setup.MaxInlinePolicySize {
		return fmt.Errorf("--policy-file %s is %d characters without whitespace, over IAM's limit of %d for a role's inline policies: shorten it, or attach a managed policy with --attach-policy-arn", path, n, setup.MaxInlinePolicySize)
	}
	return nil
}

// addTrustSizeLimitFlag registers --trust-size-limit, the override of the account's trust policy quota (0, the
// default, checks against the account's quota).
func addTrustSizeLimitFlag(f *pflag.FlagSet, limit *int) {
	f.Var(trustSizeLimit{limit}, "trust-size-limit", "check the role's trust policy against this size (characters without whitespace) instead of the account's quota, which is read from iam:GetAccountSummary (IAM's default is 2048)")
}

// trustSizeLimit is --trust-size-limit: a positive number, no default printed (the account's quota applies).
type trustSizeLimit struct{ v *int }

func (t trustSizeLimit) String() string {
	if t.v == nil || *t.v == 0 {
		return ""
	}
	return strconv.Itoa(*t.v)
}

func (t trustSizeLimit) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a positive number of characters", s)
	}
	*t.v = n
	return nil
}

func (t trustSizeLimit) Type() string { return "int" }
