package plugin

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// podIdentityFlags are the flags of link and unlink that switch them to EKS Pod Identity.
type podIdentityFlags struct {
	enabled            bool
	targetRoleARN      string
	disableSessionTags bool
}

func (p *podIdentityFlags) addLinkFlags(f *pflag.FlagSet) {
	f.BoolVar(&p.enabled, "pod-identity", false, "use an EKS Pod Identity association instead of IRSA (no annotation, no OIDC provider)")
	f.StringVar(&p.targetRoleARN, "target-role-arn", "", "with --pod-identity: role (often in another account) the association's role chains into")
	f.BoolVar(&p.disableSessionTags, "disable-session-tags", false, "with --pod-identity: do not send the EKS session tags")
}

func (p *podIdentityFlags) addUnlinkFlags(f *pflag.FlagSet) {
	f.BoolVar(&p.enabled, "pod-identity", false, "delete the EKS Pod Identity association instead of the IRSA annotation")
}

// validateLink refuses, before any call, flags that do not apply: the Pod Identity flags without --pod-identity
// (they were ignored and an IRSA role created), the IRSA ones with it.
func (p *podIdentityFlags) validateLink(createServiceAccount, noCreateProvider bool) error {
	if !p.enabled {
		switch {
		case p.targetRoleARN != "":
			return errors.New("--target-role-arn applies only with --pod-identity (role chaining of an EKS Pod Identity association): add --pod-identity, or drop it")
		case p.disableSessionTags:
			return errors.New("--disable-session-tags applies only with --pod-identity: add --pod-identity, or drop it")
		}
		return nil
	}
	if createServiceAccount || noCreateProvider {
		return errors.New("--create-service-account and --no-create-provider are IRSA flags: drop them with --pod-identity")
	}
	if p.targetRoleARN != "" {
		if _, err := iamref.ParseRole(p.targetRoleARN); err != nil {
			return fmt.Errorf("--target-role-arn: %w", err)
		}
	}
	return nil
}

// newPodIdentity builds the Pod Identity write side: the Setup clients, EKS and the cluster's name. The issuer
// (found with a token of tokenNamespace) is looked up only when tokenNamespace is set: migrate edits the IRSA
// statement, link and unlink --pod-identity do not need it.
func (g *Globals) newPodIdentity(ctx context.Context, tokenNamespace string) (*setup.PodIdentity, error) {
	var s *setup.Setup
	var err error
	if tokenNamespace != "" {
		s, _, err = g.newSetup(ctx, tokenNamespace)
	} else {
		s, err = g.setupClients(ctx)
	}
	if err != nil {
		return nil, err
	}
	clients, err := g.Factory.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return &setup.PodIdentity{Setup: s, EKS: clients.EKS, Cluster: g.Factory.ClusterRef().Name}, nil
}

// runPodIdentity is `link --pod-identity`.
func (o *LinkOptions) runPodIdentity(ctx context.Context) error {
	p, err := o.newPodIdentity(ctx, "")
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, p.Setup); err != nil {
		return err
	}
	plan, err := p.PlanLinkPodIdentity(ctx, setup.PodIdentityLinkRequest{
		Namespace: o.req.Namespace, ServiceAccount: o.req.ServiceAccount, RoleName: o.req.RoleName, RoleARN: o.req.RoleARN,
		Permissions: o.req.Permissions, TargetRoleARN: o.pi.targetRoleARN, DisableSessionTags: o.pi.disableSessionTags,
		Overwrite: o.req.Overwrite, Restart: o.req.Restart, DryRun: o.req.DryRun, TrustSizeLimit: o.req.TrustSizeLimit,
	})
	if err != nil {
		return err
	}
	human := o.output.human()
	if human {
		header := "Plan"
		if o.req.DryRun {
			header = "Plan (dry run: nothing is written)"
		}
		fmt.Fprintf(o.Out, "%s for %s/%s with EKS Pod Identity in cluster %s:\n", header, o.req.Namespace, o.req.ServiceAccount, p.Cluster)
		printActions(o.Out, plan.Result())
	}
	res, err := applyPlan(ctx, plan, human, o.ErrOut)
	if err != nil {
		return err
	}
	if !human {
		printHints(o.ErrOut, res)
		return o.output.printObject(res, o.Out)
	}
	switch {
	case o.req.DryRun:
	case res.Unchanged:
		fmt.Fprintf(o.Out, "unchanged: %s/%s already associated with %s\n", o.req.Namespace, o.req.ServiceAccount, res.Role.ARN)
	default:
		fmt.Fprintf(o.Out, "associated %s/%s with %s (EKS Pod Identity)\n", o.req.Namespace, o.req.ServiceAccount, res.Role.ARN)
	}
	printHints(o.ErrOut, res)
	return nil
}

// runPodIdentity is `unlink --pod-identity`.
func (o *UnlinkOptions) runPodIdentity(ctx context.Context) error {
	p, err := o.newPodIdentity(ctx, "")
	if err != nil {
		return err
	}
	if err := o.lock.apply(ctx, o.Globals, p.Setup); err != nil {
		return err
	}
	plan, err := p.PlanUnlinkPodIdentity(ctx, o.req)
	if err != nil {
		return err
	}
	res, err := applyPlan(ctx, plan, o.output.human(), o.ErrOut)
	if err != nil {
		return err
	}
	if !o.output.human() {
		printHints(o.ErrOut, res)
		return o.output.printObject(res, o.Out)
	}
	if o.req.DryRun {
		fmt.Fprintln(o.Out, dryRunHeader)
	}
	printActions(o.Out, res)
	if !o.req.DryRun {
		fmt.Fprintf(o.Out, "unlinked %s/%s from %s (EKS Pod Identity, %s)\n", o.req.Namespace, o.req.ServiceAccount, res.Role.ARN, trust.ServicePodIdentity)
	}
	printHints(o.ErrOut, res)
	return nil
}
