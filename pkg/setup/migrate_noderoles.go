package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AccessEntryAPI is the part of EKS the node role check reads: the cluster's authentication mode and its access
// entries; *eks.Client implements it.
type AccessEntryAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	ListAccessEntries(ctx context.Context, in *eks.ListAccessEntriesInput, optFns ...func(*eks.Options)) (*eks.ListAccessEntriesOutput, error)
	DescribeAccessEntry(ctx context.Context, in *eks.DescribeAccessEntryInput, optFns ...func(*eks.Options)) (*eks.DescribeAccessEntryOutput, error)
}

// nodeAccessEntryTypes are the access entry types of node roles whose nodes run the EKS Pod Identity Agent.
var nodeAccessEntryTypes = []string{"EC2_LINUX", "EC2_WINDOWS"}

// maxAccessEntryReads bounds the DescribeAccessEntry calls in flight.
const maxAccessEntryReads = 8

// nodeRole is a node role and where it was found.
type nodeRole struct {
	role   iamref.Role
	source string
}

// nodeRoles returns the cluster's node roles, from the sources its authentication mode uses: the aws-auth
// ConfigMap (mapRoles in group system:nodes) in CONFIG_MAP mode, EKS access entries of type EC2_LINUX or
// EC2_WINDOWS in API mode, both in API_AND_CONFIG_MAP mode or when the mode cannot be read (DescribeCluster
// refused, or an endpoint that does not report it). What cannot be read is returned as could-not-check, never as
// a finding: the caller may lack eks:ListAccessEntries or the right to read aws-auth.
func (p *preflight) nodeRoles(ctx context.Context) ([]nodeRole, []string) {
	var roles []nodeRole
	var unchecked []string
	add := func(r iamref.Role, source string) {
		if !slices.ContainsFunc(roles, func(n nodeRole) bool { return n.role.ARN == r.ARN }) {
			roles = append(roles, nodeRole{r, source})
		}
	}
	mode := p.authenticationMode(ctx)
	if mode != ekstypes.AuthenticationModeApi {
		found, err := p.awsAuthNodeRoles(ctx)
		if err != nil {
			unchecked = append(unchecked, "could not check the node roles in kube-system/aws-auth: "+err.Error())
		}
		for _, r := range found {
			add(r, "aws-auth")
		}
	}
	if mode != ekstypes.AuthenticationModeConfigMap {
		found, notes := p.accessEntryNodeRoles(ctx, mode)
		unchecked = append(unchecked, notes...)
		for _, r := range found {
			add(r, "access entry")
		}
	}
	return roles, unchecked
}

// authenticationMode is the cluster's access configuration mode ("" when it cannot be read).
func (p *preflight) authenticationMode(ctx context.Context) ekstypes.AuthenticationMode {
	if p.m.AccessEntries == nil {
		return ""
	}
	out, err := p.m.AccessEntries.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(p.m.Cluster)})
	if err != nil || out.Cluster == nil {
		return ""
	}
	if arn := aws.ToString(out.Cluster.Arn); arn != "" {
		p.clusterARN = arn
	}
	if out.Cluster.AccessConfig == nil {
		return ""
	}
	return out.Cluster.AccessConfig.AuthenticationMode
}

// awsAuthNodeRoles reads the roles of group system:nodes in the aws-auth ConfigMap (none when it does not exist).
func (p *preflight) awsAuthNodeRoles(ctx context.Context) ([]iamref.Role, error) {
	cm, err := p.m.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "aws-auth", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.New(kubeReason(err))
	}
	var mapRoles []struct {
		RoleARN string   `json:"rolearn"`
		Groups  []string `json:"groups"`
	}
	if err := yaml.Unmarshal([]byte(cm.Data["mapRoles"]), &mapRoles); err != nil {
		return nil, fmt.Errorf("mapRoles is not a YAML list of roles: %w", err)
	}
	var out []iamref.Role
	for _, r := range mapRoles {
		role, err := iamref.ParseRole(r.RoleARN)
		if err == nil && slices.Contains(r.Groups, "system:nodes") {
			out = append(out, role)
		}
	}
	return out, nil
}

// accessEntryNodeRoles lists the cluster's access entries (every page) and describes those whose principal is a
// role (8 at a time), keeping the node types. A cluster in CONFIG_MAP mode answers ListAccessEntries with
// InvalidRequestException: when the mode was not known, that means no access entries, not a failure.
func (p *preflight) accessEntryNodeRoles(ctx context.Context, mode ekstypes.AuthenticationMode) ([]iamref.Role, []string) {
	if p.m.AccessEntries == nil {
		return nil, []string{"could not check the node roles in EKS access entries: no EKS client"}
	}
	var principals []iamref.Role
	pages := eks.NewListAccessEntriesPaginator(p.m.AccessEntries, &eks.ListAccessEntriesInput{ClusterName: aws.String(p.m.Cluster)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			var api smithy.APIError
			if mode == "" && errors.As(err, &api) && api.ErrorCode() == "InvalidRequestException" {
				return nil, nil
			}
			return nil, []string{fmt.Sprintf("could not check the node roles in EKS access entries (eks:ListAccessEntries %s): %v", p.m.Cluster, awsapi.Short(err))}
		}
		for _, arn := range page.AccessEntries {
			if r, err := iamref.ParseRole(arn); err == nil { // users are never node roles
				principals = append(principals, r)
			}
		}
	}
	var mu sync.Mutex
	var roles []iamref.Role
	var unchecked []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxAccessEntryReads)
	for _, r := range principals {
		g.Go(func() error {
			out, err := p.m.AccessEntries.DescribeAccessEntry(gctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(p.m.Cluster), PrincipalArn: aws.String(r.ARN)})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				unchecked = append(unchecked, fmt.Sprintf("could not check EKS access entry %s (eks:DescribeAccessEntry): %v", r.ARN, awsapi.Short(err)))
			case out.AccessEntry != nil && slices.Contains(nodeAccessEntryTypes, aws.ToString(out.AccessEntry.Type)):
				roles = append(roles, r)
			}
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: failures are could-not-check
	slices.SortFunc(roles, func(a, b iamref.Role) int { return strings.Compare(a.ARN, b.ARN) })
	slices.Sort(unchecked)
	return roles, unchecked
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
		what := fmt.Sprintf("node role %s (%s)", n.role.Name, n.source)
		ev, err := p.nodeRoleEvaluation(ctx, n.role)
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
			policy := workerNodePolicyARN(n.role.Partition)
			reasons = append(reasons, fmt.Sprintf("PodIdentityNodeRole: %s may not call %s: attach %s (aws iam attach-role-policy --role-name %s --policy-arn %s)",
				what, actionPodIdentity, policy, n.role.Name, policy))
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
	var names []string
	pages := iam.NewListRolePoliciesPaginator(p.m.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(role.Name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return trust.IdentityEvaluation{}, fmt.Errorf("iam:ListRolePolicies %s: %w", role.Name, awsapi.Short(err))
		}
		names = append(names, page.PolicyNames...)
	}
	for _, n := range names {
		out, err := p.m.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role.Name), PolicyName: aws.String(n)})
		if err != nil {
			return trust.IdentityEvaluation{}, fmt.Errorf("iam:GetRolePolicy %s %s: %w", role.Name, n, awsapi.Short(err))
		}
		doc, err := parsePermissionPolicy(aws.ToString(out.PolicyDocument))
		if err != nil {
			return trust.IdentityEvaluation{}, fmt.Errorf("inline policy %s of %s: %w", n, role.Name, err)
		}
		policies = append(policies, trust.IdentityPolicy{Name: "inline policy " + n, Doc: doc})
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
	pol, err := client.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("iam:GetPolicy %s: %w", arn, awsapi.Short(err))
	}
	if pol.Policy == nil || aws.ToString(pol.Policy.DefaultVersionId) == "" {
		return nil, fmt.Errorf("iam:GetPolicy %s: no default version in the answer", arn)
	}
	version := aws.ToString(pol.Policy.DefaultVersionId)
	out, err := client.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)})
	if err != nil {
		return nil, fmt.Errorf("iam:GetPolicyVersion %s %s: %w", arn, version, awsapi.Short(err))
	}
	if out.PolicyVersion == nil {
		return nil, fmt.Errorf("iam:GetPolicyVersion %s %s: no document in the answer", arn, version)
	}
	doc, err := parsePermissionPolicy(aws.ToString(out.PolicyVersion.Document))
	if err != nil {
		return nil, fmt.Errorf("managed policy %s (version %s): %w", arn, version, err)
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
