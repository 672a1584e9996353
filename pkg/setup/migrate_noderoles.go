package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AccessEntryAPI is the part of EKS the node role check reads: the cluster's authentication mode and its access
// entries; *eks.Client implements it.
type AccessEntryAPI = state.AccessEntryAPI

// nodeRoles returns the cluster's node roles as state.ReadNodeRoles reads them, and what could not be read
// (an endpoint that does not serve access entries included: the preflight cannot vouch for those nodes).
func (p *preflight) nodeRoles(ctx context.Context) ([]state.NodeRole, []string) {
	var read state.NodeRoles
	if p.m.AccessEntries == nil {
		read = state.ReadNodeRoles(ctx, p.m.Kube, nil, "")
		read.Unchecked = append(read.Unchecked, "could not check the node roles in EKS access entries: no EKS client")
	} else {
		read = state.ReadNodeRoles(ctx, p.m.Kube, p.m.AccessEntries, p.m.Cluster)
	}
	if read.ClusterARN != "" {
		p.clusterARN = read.ClusterARN
	}
	unchecked := read.Unchecked
	for _, n := range read.Notes {
		unchecked = append(unchecked, "could not check "+n)
	}
	return read.Roles, unchecked
}

// actionPodIdentity is the call the EKS Pod Identity Agent makes with its node's role.
const actionPodIdentity = "eks-auth:AssumeRoleForPodIdentity"

// workerNodePolicyARN is the AWS managed policy AmazonEKSWorkerNodePolicy in a partition. AWS added
// eks-auth:AssumeRoleForPodIdentity (Resource "*") to it in November 2023, so it is trusted by this exact ARN
// and not read; a customer managed policy of the same name is read like any other.
func workerNodePolicyARN(partition string) string {
	return "arn:" + partition + ":iam::aws:policy/AmazonEKSWorkerNodePolicy"
}

// grantsPodIdentity reports whether a managed policy ARN is one of the AWS managed policies that allow
// eks-auth:AssumeRoleForPodIdentity on "*": AmazonEKSWorkerNodePolicy, and AmazonEKSWorkerNodeMinimalPolicy
// (October 2024, that action only). Only the exact AWS managed ARN counts, never the name.
func grantsPodIdentity(policyARN, partition string) bool {
	return policyARN == workerNodePolicyARN(partition) || policyARN == "arn:"+partition+":iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy"
}

// workerNodeGrant is what AmazonEKSWorkerNodePolicy (and AmazonEKSWorkerNodeMinimalPolicy) grant of
// actionPodIdentity.
var workerNodeGrant = func() *trust.Document {
	d, err := trust.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + actionPodIdentity + `","Resource":"*"}]}`)
	if err != nil {
		panic(err)
	}
	return d
}()

// policyRead is a managed policy's default version as read once per run, or why it could not be read.
type policyRead struct {
	doc *trust.Document
	err error
}

// nodeRoleChecks: each node role may call eks-auth:AssumeRoleForPodIdentity, which the agent on its nodes needs.
// A role whose policies certainly refuse it (no Allow, or an explicit Deny) blocks; one whose policies cannot be
// read, or whose verdict depends on conditions, is could-not-check.
func (p *preflight) nodeRoleChecks(ctx context.Context) (reasons, unchecked []string) {
	roles, unchecked := p.nodeRoles(ctx)
	for _, n := range roles {
		what := fmt.Sprintf("node role %s (%s)", n.Role.Name, n.Source)
		ev, err := p.nodeRoleEvaluation(ctx, n.Role)
		switch {
		case err != nil:
			unchecked = append(unchecked, fmt.Sprintf("could not check whether %s may call %s: %v", what, actionPodIdentity, err))
		case ev.Verdict == trust.CannotTell:
			unchecked = append(unchecked, fmt.Sprintf("could not tell whether %s may call %s: it depends on %s, not evaluated locally (in %s)",
				what, actionPodIdentity, strings.Join(ev.UnknownKeys, ", "), strings.Join(ev.Undecided, ", ")))
		case ev.Verdict == trust.Refuses && len(ev.DeniedBy) > 0:
			reasons = append(reasons, fmt.Sprintf("PodIdentityNodeRole: %s may not call %s: a Deny in %s refuses it: exempt %s from that Deny",
				what, actionPodIdentity, strings.Join(ev.DeniedBy, ", "), actionPodIdentity))
		case ev.Verdict == trust.Refuses:
			policy := workerNodePolicyARN(n.Role.Partition)
			reasons = append(reasons, fmt.Sprintf("PodIdentityNodeRole: %s may not call %s: attach %s (aws iam attach-role-policy --role-name %s --policy-arn %s)",
				what, actionPodIdentity, policy, n.Role.Name, policy))
		}
	}
	return reasons, unchecked
}

// nodeRoleEvaluation evaluates the role's inline and attached policies together for
// eks-auth:AssumeRoleForPodIdentity on the cluster: AmazonEKSWorkerNodePolicy (or AmazonEKSWorkerNodeMinimalPolicy)
// by its exact AWS managed ARN, every other managed policy by its default version (read once per run), inline
// policies as stored. An error when any of them cannot be read.
func (p *preflight) nodeRoleEvaluation(ctx context.Context, role iamref.Role) (trust.IdentityEvaluation, error) {
	attached, err := attachedPolicies(ctx, p.m.IAM, role.Name)
	if err != nil {
		return trust.IdentityEvaluation{}, err
	}
	var policies []trust.IdentityPolicy
	for _, a := range attached {
		if grantsPodIdentity(a, role.Partition) {
			policies = append(policies, trust.IdentityPolicy{Name: a, Doc: workerNodeGrant})
			continue
		}
		doc, err := p.managedPolicy(ctx, a)
		if err != nil {
			return trust.IdentityEvaluation{}, err
		}
		policies = append(policies, trust.IdentityPolicy{Name: a, Doc: doc})
	}
	inline, err := state.InlinePolicies(ctx, p.m.IAM, role.Name, nil)
	if err != nil {
		return trust.IdentityEvaluation{}, err
	}
	for _, pol := range inline {
		doc, err := parsePermissionPolicy(pol.Document)
		if err != nil {
			return trust.IdentityEvaluation{}, fmt.Errorf("inline policy %s of %s: %w", pol.Name, role.Name, err)
		}
		policies = append(policies, trust.IdentityPolicy{Name: "inline policy " + pol.Name, Doc: doc})
	}
	return trust.EvaluateIdentity(actionPodIdentity, p.clusterARN, policies...), nil
}

// managedPolicy reads a managed policy's default version (GetPolicy, then GetPolicyVersion), once per run: node
// roles share their managed policies, and a failure is remembered too.
func (p *preflight) managedPolicy(ctx context.Context, arn string) (*trust.Document, error) {
	if r, ok := p.policyDocs[arn]; ok {
		return r.doc, r.err
	}
	doc, err := readManagedPolicy(ctx, p.m.IAM, arn)
	if p.policyDocs == nil {
		p.policyDocs = map[string]policyRead{}
	}
	p.policyDocs[arn] = policyRead{doc, err}
	return doc, err
}

func readManagedPolicy(ctx context.Context, client IAMAPI, arn string) (*trust.Document, error) {
	raw, err := state.ManagedPolicyDocument(ctx, client, arn)
	if err != nil {
		return nil, err
	}
	doc, err := parsePermissionPolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("managed policy %s: %w", arn, err)
	}
	return doc, nil
}

// parsePermissionPolicy reads a permission policy as IAM returns it (URL-encoded JSON).
func parsePermissionPolicy(raw string) (*trust.Document, error) {
	plain, err := iamref.DecodePolicyDocument(raw)
	if err != nil {
		return nil, err
	}
	doc, err := trust.Parse(plain)
	if err != nil {
		return nil, errors.New(strings.Replace(err.Error(), "trust policy", "policy", 1))
	}
	return doc, nil
}
