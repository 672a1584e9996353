// Package inspect is the read side of kubectl irsa: it gathers the snapshot of live state that doctor's rules,
// list, audit and test judge (ServiceAccounts, pods, IAM roles and policies, OIDC providers, EKS Pod Identity
// and access entries), each distinct role and provider read once, with bounded concurrency and every list
// call paged. A read that fails is never a finding and never dropped: it becomes a "could not check" note in
// the report, so the command can say it could not complete.
package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// IAMAPI is the part of IAM that doctor, list, audit and test read; *iam.Client implements it.
type IAMAPI interface {
	state.RoleReadAPI
	ListRoles(ctx context.Context, in *iam.ListRolesInput, optFns ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, optFns ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// EKSAPI is the part of EKS that doctor and list read: Pod Identity associations and node access entries.
type EKSAPI interface {
	state.AssociationAPI
	state.AccessEntryAPI
}

// maxInFlight bounds concurrent AWS reads; the SDK retries throttling itself.
const maxInFlight = 8

// Inspector reads the live state the read commands judge, with a constant number of Kubernetes list calls per
// scope and each distinct role and provider read once.
type Inspector struct {
	Kube kubernetes.Interface
	// IAM and EKS may be nil: the AWS checks are then skipped and a note says so.
	IAM     IAMAPI
	EKS     EKSAPI
	Cluster cluster.Ref
	Issuer  string
	// Accounts routes each role and provider read to its account's credentials (nil: IAM for every account).
	Accounts *state.Router[IAMAPI]
	// Addons finds the Pod Identity Agent's EKS add-on (nil: only its DaemonSet is looked for).
	Addons state.AddonAPI
	// AccountDetails is iam:GetAccountAuthorizationDetails, which audit uses at fleet size (nil: roles and
	// their policies are read role by role).
	AccountDetails AccountDetailsAPI
	// ListThreshold is the number of distinct roles of one account above which roles are listed rather than
	// read one by one (0: DefaultListThreshold).
	ListThreshold int
	// Quotas reads the account's trust policy quota for audit's TrustNearQuota (nil: not checked).
	Quotas state.QuotaAPI

	mu        sync.Mutex
	readers   readers
	roles     map[string]*roleState
	providers map[string]*doctor.Provider
	// recorder keeps the run's notes and could-not-check lines.
	recorder state.Recorder
	// associations caches the EKS Pod Identity associations by namespace filter ("" for all).
	associations map[string]associationList
	agent        *bool
	agentRead    bool
	// associationsFailed: an association list failed (could-not-check), so a ServiceAccount without an
	// annotation may still use Pod Identity.
	associationsFailed bool
}

// roleState is a role as read: the snapshot doctor judges, and what could not be read.
type roleState struct {
	role *doctor.Role
	// actualARN is the role's ARN in IAM, when it differs from the annotation's (another path).
	actualARN string
	// unreadable: GetRole failed; policiesUnreadable: its policies could not all be read.
	unreadable, policiesUnreadable bool
}

// Notes are informational: how permissions were decided, which API the endpoint does not serve.
func (in *Inspector) Notes() []string { return in.recorder.Notes() }

// Unchecked are the checks that could not run because a read failed ("could not check ...").
func (in *Inspector) Unchecked() []string { return in.recorder.CouldNotCheckList() }

func (in *Inspector) note(s string) { in.recorder.Note(s) }

// noteUnchecked records a check that could not run, said in full.
func (in *Inspector) noteUnchecked(s string) { in.recorder.Unchecked(s) }

// couldNotCheck records a failed read: what could not be checked, and the error.
func (in *Inspector) couldNotCheck(what string, err error) { in.recorder.CouldNotCheck(what, err) }

// role reads a role once (GetRole), and its identity policies when withPolicies (for the actions seen denied).
// A failed read is recorded as could-not-check, and the returned state says so.
func (in *Inspector) role(ctx context.Context, r iamref.Role, withPolicies bool, actions []string) *roleState {
	in.mu.Lock()
	if in.roles == nil {
		in.roles = map[string]*roleState{}
	}
	cached := in.roles[r.ARN]
	in.mu.Unlock()
	if cached != nil && (!withPolicies || cached.role.Policies != nil || cached.role.Simulated != nil || !cached.role.Found) {
		return cached
	}
	st := cached
	if st == nil {
		st = &roleState{role: &doctor.Role{ARN: r.ARN, Name: r.Name, Account: r.Account}}
		res := in.getRole(ctx, r)
		switch {
		case errors.Is(res.Err, state.ErrNoAccountClient):
			st.unreadable = true
			in.couldNotCheck(fmt.Sprintf("role %s in account %s", r.Name, r.Account), res.Err)
		case res.Presence == state.Missing:
		case res.Presence == state.Unknown:
			st.unreadable = true
			in.couldNotCheck("role "+r.Name+" (iam:GetRole)", res.Err)
		case res.ARN != "" && res.ARN != r.ARN:
			// The name exists at another path: the webhook and STS use the annotation's ARN, which names no role.
			st.actualARN = res.ARN
		default:
			doc, err := trust.Parse(res.Trust)
			if err != nil {
				st.unreadable = true
				in.couldNotCheck("the trust policy of role "+r.Name, err)
				break
			}
			st.role.Found, st.role.Trust = true, doc
		}
	}
	if withPolicies && st.role.Found {
		st.role.Simulated = in.simulate(ctx, r, actions)
		if st.role.Simulated == nil {
			docs, _, err := in.policyDocuments(ctx, r)
			if err != nil {
				st.policiesUnreadable = true
				in.couldNotCheck("the permissions of role "+r.Name, err)
			}
			st.role.Policies = docs
		} else {
			st.role.Policies = []string{}
		}
	}
	in.mu.Lock()
	in.roles[r.ARN] = st
	in.mu.Unlock()
	return st
}

// provider reads the OIDC provider of the issuer in an account once; nil when it could not be read.
func (in *Inspector) provider(ctx context.Context, partition, account string) *doctor.Provider {
	p := trust.NewProvider(partition, account, in.Issuer)
	in.mu.Lock()
	if in.providers == nil {
		in.providers = map[string]*doctor.Provider{}
	}
	cached, seen := in.providers[p.ARN]
	in.mu.Unlock()
	if seen {
		return cached
	}
	out := &doctor.Provider{ARN: p.ARN}
	res := in.getProvider(ctx, account, p.ARN)
	switch {
	case errors.Is(res.Err, state.ErrNoAccountClient):
		in.couldNotCheck(fmt.Sprintf("OIDC provider %s in account %s", p.ARN, account), res.Err)
		out = nil
	case res.Presence == state.Missing:
	case res.Presence == state.Unknown:
		in.couldNotCheck("OIDC provider "+p.ARN+" (iam:GetOpenIDConnectProvider)", res.Err)
		out = nil
	default:
		out.Found, out.ClientIDs = true, res.ClientIDs
	}
	in.mu.Lock()
	in.providers[p.ARN] = out
	in.mu.Unlock()
	return out
}

// diagnose runs doctor's rules on a subject and adjusts the findings about its role for what the snapshot
// cannot show them: a role at another path than the annotation's ARN is reported missing with that evidence,
// and a permission verdict is dropped when the role's policies could not be read (a could-not-check note says
// so instead).
func (in *Inspector) diagnose(c doctor.Cluster, s doctor.Subject) []doctor.Finding {
	if s.PodIdentityRole == nil {
		s.PodIdentityRole = in.podIdentityRole(c, s.SA.Namespace, s.SA.Name)
	}
	if s.PodIdentityTargetRole == nil {
		s.PodIdentityTargetRole = in.podIdentityTargetRole(c, s.SA.Namespace, s.SA.Name)
	}
	findings := doctor.Diagnose(c, s)
	r, ok := annotatedRole(s.SA.Annotations)
	if !ok {
		return findings
	}
	in.mu.Lock()
	st := in.roles[r.ARN]
	in.mu.Unlock()
	if st == nil {
		return findings
	}
	out := findings[:0]
	for _, f := range findings {
		if f.Target == "role/"+r.Name && f.Check == "iam" {
			switch {
			case f.ID == doctor.PermissionMissing && st.policiesUnreadable:
				continue
			case f.ID == doctor.RoleMissing && st.actualARN != "":
				f.Summary = fmt.Sprintf("no role has the ARN %s: IAM has role %s at %s", r.ARN, r.Name, st.actualARN)
				f.Evidence = append(f.Evidence, "the annotation must name the role's whole ARN, path included; STS refuses any other")
				f.Fix = fmt.Sprintf("kubectl irsa annotate %s -n %s --role-arn %s --overwrite", s.SA.Name, s.SA.Namespace, st.actualARN)
			}
		}
		out = append(out, f)
	}
	return out
}

// annotatedRole returns the role a ServiceAccount's annotation names (false when absent or malformed).
func annotatedRole(annotations map[string]string) (iamref.Role, bool) {
	r, err := iamref.ParseRole(strings.TrimSpace(annotations[iamref.RoleARNAnnotation]))
	return r, err == nil
}

// CouldNotCheck records that a check could not run because of err (such as AWS not configured).
func (in *Inspector) CouldNotCheck(what string, err error) { in.couldNotCheck(what, err) }
