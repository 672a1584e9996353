package inspect

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"golang.org/x/sync/errgroup"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
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
	input := &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(in.Cluster.Name)}
	if namespace != "" {
		input.Namespace = aws.String(namespace)
	}
	var out []association
	pages := eks.NewListPodIdentityAssociationsPaginator(in.EKS, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			in.eksUnread("EKS Pod Identity associations", err)
			return nil, false
		}
		for _, a := range page.Associations {
			out = append(out, association{id: aws.ToString(a.AssociationId), namespace: aws.ToString(a.Namespace), serviceAccount: aws.ToString(a.ServiceAccount)})
		}
	}
	return out, true
}

// eksUnread records a failed EKS read: a note when the endpoint does not serve the API (an emulator), a
// could-not-check otherwise.
func (in *Inspector) eksUnread(what string, err error) {
	if awsapi.IsUnavailable(err) || awsapi.IsNotFound(err) {
		in.note(what + " not checked: " + awsapi.Short(err).Error())
		return
	}
	in.couldNotCheck(what, err)
}

// NodeRoles returns the role names of the cluster's nodes: aws-auth mapRoles entries in group system:nodes,
// and EKS access entries of type EC2_LINUX (or EC2_WINDOWS).
func (in *Inspector) NodeRoles(ctx context.Context) map[string]bool {
	roles := map[string]bool{}
	cm, err := in.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "aws-auth", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		in.couldNotCheck("the node roles of aws-auth", err)
	default:
		var entries []struct {
			RoleARN string   `json:"rolearn"`
			Groups  []string `json:"groups"`
		}
		if yaml.Unmarshal([]byte(cm.Data["mapRoles"]), &entries) == nil {
			for _, e := range entries {
				if r, err := iamref.ParseRole(e.RoleARN); err == nil && slices.Contains(e.Groups, "system:nodes") {
					roles[r.Name] = true
				}
			}
		}
	}
	if in.EKS == nil || in.Cluster.Name == "" {
		return roles
	}
	var principals []string
	pages := eks.NewListAccessEntriesPaginator(in.EKS, &eks.ListAccessEntriesInput{ClusterName: aws.String(in.Cluster.Name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			in.eksUnread("EKS access entries (node roles)", err)
			return roles
		}
		principals = append(principals, page.AccessEntries...)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, principal := range principals {
		g.Go(func() error {
			d, err := in.EKS.DescribeAccessEntry(gctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(in.Cluster.Name), PrincipalArn: aws.String(principal)})
			if err != nil {
				in.couldNotCheck("EKS access entry "+principal, err)
				return nil
			}
			if r, err := iamref.ParseRole(principal); err == nil && d.AccessEntry != nil && strings.HasPrefix(aws.ToString(d.AccessEntry.Type), "EC2") {
				mu.Lock()
				roles[r.Name] = true
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: failures are recorded as could-not-check
	return roles
}
