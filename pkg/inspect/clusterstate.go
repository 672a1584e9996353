package inspect

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
)

// ClusterState reads cluster-wide facts: whether a pod identity webhook is installed, and the EKS Pod Identity
// associations of the given namespace ("" for all). What cannot be read stays unknown, with a note.
func (in *Inspector) ClusterState(ctx context.Context, namespace string) doctor.Cluster {
	c := doctor.Cluster{Issuer: in.Issuer}
	hooks, err := cluster.ListMutatingWebhooks(ctx, in.Kube)
	if err != nil {
		in.couldNotCheck("whether a pod identity webhook is installed", err)
	} else {
		installed := slices.ContainsFunc(hooks, func(h admissionregistrationv1.MutatingWebhookConfiguration) bool {
			if strings.Contains(h.Name, "pod-identity-webhook") {
				return true
			}
			return slices.ContainsFunc(h.Webhooks, func(w admissionregistrationv1.MutatingWebhook) bool { return strings.Contains(w.Name, "iam-for-pods") })
		})
		c.WebhookInstalled = &installed
	}
	in.podIdentityState(ctx, namespace, &c)
	return c
}

// association is an EKS Pod Identity association: the ServiceAccount and its role (with what Describe adds).
type association struct {
	id, namespace, serviceAccount, roleARN string
	// described: DescribePodIdentityAssociation answered, so the fields below are known.
	described          bool
	targetRoleARN      string
	disableSessionTags bool
	created            time.Time
}

// podIdentitySummaries lists the EKS Pod Identity associations of a namespace ("" for all), every page;
// false when they are not known (no EKS client or cluster name, or the API did not answer).
func (in *Inspector) podIdentitySummaries(ctx context.Context, namespace string) ([]association, bool) {
	if in.EKS == nil || in.Cluster.Name == "" {
		return nil, false
	}
	list, err := state.ListAssociations(ctx, in.EKS, in.Cluster.Name, namespace, "", func(o *eks.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		in.associationsUnread(err)
		return nil, false
	}
	out := make([]association, 0, len(list))
	for _, a := range list {
		out = append(out, association{id: a.ID, namespace: a.Namespace, serviceAccount: a.ServiceAccount})
	}
	return out, true
}

// associationsUnread records a failed association list. An endpoint that does not serve the API at all (an
// emulator without it) is a note; anything else, a cluster EKS does not know (a wrong --eks-cluster) included,
// is could-not-check: which ServiceAccounts use Pod Identity is then unknown, never "none".
func (in *Inspector) associationsUnread(err error) {
	if awsapi.IsUnavailable(err) {
		in.note("EKS Pod Identity associations not checked: " + awsapi.Short(err).Error())
		return
	}
	what := "the EKS Pod Identity associations of cluster " + in.Cluster.Name
	if awsapi.IsNotFound(err) {
		what += " (is --eks-cluster right?)"
	}
	in.couldNotCheck(what, err)
	in.mu.Lock()
	in.associationsFailed = true
	in.mu.Unlock()
}

// NodeRoles returns the role names of the cluster's nodes as state.ReadNodeRoles reads them (aws-auth and/or
// EKS access entries, by the cluster's authentication mode); what could not be read is recorded.
func (in *Inspector) NodeRoles(ctx context.Context) map[string]bool {
	var entries state.AccessEntryAPI
	if in.EKS != nil {
		entries = in.EKS
	}
	read := state.ReadNodeRoles(ctx, in.Kube, entries, in.Cluster.Name)
	for _, n := range read.Notes {
		in.note(n)
	}
	for _, u := range read.Unchecked {
		in.noteUnchecked(u)
	}
	return read.Names()
}
