package inspect

import (
	"context"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AgentName is the EKS Pod Identity Agent's add-on and DaemonSet name.
const AgentName = state.AgentName

// associationList is one ListPodIdentityAssociations result: ok false when it could not be read.
type associationList struct {
	list []association
	ok   bool
}

// associationsIn lists and describes the EKS Pod Identity associations of a namespace ("" for all) once per
// Inspector: one list (every page) and one Describe per association; false when they are not known.
func (in *Inspector) associationsIn(ctx context.Context, namespace string) ([]association, bool) {
	in.mu.Lock()
	cached, seen := in.associations[namespace]
	in.mu.Unlock()
	if seen {
		return cached.list, cached.ok
	}
	list, ok := in.describeAssociations(ctx, namespace)
	in.mu.Lock()
	if in.associations == nil {
		in.associations = map[string]associationList{}
	}
	in.associations[namespace] = associationList{list: list, ok: ok}
	in.mu.Unlock()
	return list, ok
}

// podIdentityState fills the cluster's Pod Identity facts: associations with their roles (each role read
// once), and, when any association is in scope, whether the agent is installed.
func (in *Inspector) podIdentityState(ctx context.Context, namespace string, c *doctor.Cluster) {
	list, ok := in.associationsIn(ctx, namespace)
	if !ok {
		in.mu.Lock()
		c.AssociationsUnread = in.associationsFailed
		in.mu.Unlock()
		return
	}
	c.PodIdentity, c.Associations = map[string]bool{}, map[string]doctor.Association{}
	var arns []string
	for _, a := range list {
		key := a.namespace + "/" + a.serviceAccount
		c.PodIdentity[key] = true
		if a.described {
			c.Associations[key] = doctor.Association{ID: a.id, RoleARN: a.roleARN, TargetRoleARN: a.targetRoleARN, DisableSessionTags: a.disableSessionTags, Created: a.created}
			arns = append(arns, a.roleARN)
			if a.targetRoleARN != "" { // read with its account's credentials; unreadable is could-not-check
				arns = append(arns, a.targetRoleARN)
			}
		}
	}
	if len(list) == 0 {
		return
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		c.AgentInstalled = in.AgentInstalled(gctx)
		return nil
	})
	if in.IAM != nil {
		g.Go(func() error {
			in.prefetchRoles(gctx, arns, false)
			return nil
		})
	}
	_ = g.Wait() // both return nil: failed reads are recorded as could-not-check
}

// AgentInstalled reports whether the EKS Pod Identity Agent is installed (state.ReadAgent, once per Inspector):
// nil when that could not be told.
func (in *Inspector) AgentInstalled(ctx context.Context) *bool {
	in.mu.Lock()
	if in.agentRead {
		defer in.mu.Unlock()
		return in.agent
	}
	in.mu.Unlock()
	agent := state.ReadAgent(ctx, in.Kube, in.Addons, in.Cluster.Name)
	for _, n := range agent.Notes {
		in.note(n)
	}
	for _, u := range agent.Unchecked {
		in.noteUnchecked(u)
	}
	var found *bool
	if agent.Presence != state.Unknown {
		yes := agent.Presence == state.Found
		found = &yes
	}
	in.mu.Lock()
	in.agent, in.agentRead = found, true
	in.mu.Unlock()
	return found
}

// podIdentityRole returns the role snapshot of a ServiceAccount's association, read earlier by ClusterState;
// nil when there is none or it could not be read.
func (in *Inspector) podIdentityRole(c doctor.Cluster, namespace, name string) *doctor.Role {
	a, ok := c.Associations[namespace+"/"+name]
	if !ok {
		return nil
	}
	r, err := iamref.ParseRole(strings.TrimSpace(a.RoleARN))
	if err != nil {
		return nil
	}
	in.mu.Lock()
	st := in.roles[r.ARN]
	in.mu.Unlock()
	if st == nil || st.unreadable || st.actualARN != "" {
		return nil
	}
	return st.role
}

// podIdentityTargetRole returns the role snapshot of the target role (role chaining) of a ServiceAccount's
// association, read earlier by ClusterState; nil when there is none or it could not be read.
func (in *Inspector) podIdentityTargetRole(c doctor.Cluster, namespace, name string) *doctor.Role {
	a, ok := c.Associations[namespace+"/"+name]
	if !ok || a.TargetRoleARN == "" {
		return nil
	}
	st := in.cachedRole(a.TargetRoleARN)
	if st == nil || st.unreadable {
		return nil
	}
	return st.role
}

// cachedRole is the state of a role read earlier (nil when it was not, or the ARN is not a role's).
func (in *Inspector) cachedRole(arn string) *roleState {
	r, err := iamref.ParseRole(strings.TrimSpace(arn))
	if err != nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.roles[r.ARN]
}

// mechanismOf names the mechanism of a list row's source.
func mechanismOf(source string) string {
	if source == "pod-identity" {
		return "pod-identity"
	}
	return "irsa"
}

// podIdentityAdmits evaluates a trust for EKS Pod Identity with the session tags it would carry: yes, no, or
// unknown (conditions on keys not known before the call).
func podIdentityAdmits(doc *trust.Document, namespace, name string) string {
	if doc == nil {
		return "unknown"
	}
	switch doc.EvaluatePodIdentity(trust.PodIdentityRequest{Context: trust.PodIdentitySessionTags("", "", namespace, name)}).Verdict {
	case trust.Admits:
		return "yes"
	case trust.Refuses:
		return "no"
	}
	return "unknown"
}

// mergeMechanisms joins the annotation row and the association row of a ServiceAccount when both name the
// same role into one row of mechanism "both": its trust must admit both, and its pods need Pod Identity's
// injection (which takes precedence).
func mergeMechanisms(items []ListItem) []ListItem {
	pi := map[string]int{}
	for i, it := range items {
		if it.Source == "pod-identity" {
			pi[it.Namespace+"/"+it.ServiceAccount] = i
		}
	}
	drop := map[int]bool{}
	for i, it := range items {
		j, ok := pi[it.Namespace+"/"+it.ServiceAccount]
		if it.Source != "annotation" || !ok {
			continue
		}
		if items[j].RoleARN != it.RoleARN {
			items[i].PodsNotInjected = 0 // its pods get Pod Identity instead, by design; audit reports the conflict
			continue
		}
		items[j].Mechanism = "both"
		items[j].TrustAdmits = bothAdmit(it.TrustAdmits, items[j].TrustAdmits)
		items[j].Provider = it.Provider
		drop[i] = true
	}
	out := items[:0]
	for i, it := range items {
		if !drop[i] {
			out = append(out, it)
		}
	}
	return out
}

func bothAdmit(a, b string) string {
	switch {
	case a == "yes" && b == "yes":
		return "yes"
	case a == "no" || b == "no":
		return "no"
	}
	return "unknown"
}
