package inspect

import (
	"context"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
)

// Identities is what `export` reads: the rows `list` shows, and for each role that exists its inline policy
// kubectl irsa writes and its attached managed policies, and each association's options.
type Identities struct {
	Items []ListItem
	// Inline maps a role ARN to its inline policy (as IAM returns it; absent when the role has none).
	Inline map[string]string
	// Attached maps a role ARN to the ARNs of its attached managed policies.
	Attached map[string][]string
	// Associations maps NAMESPACE/NAME to its Pod Identity association's options.
	Associations map[string]AssociationOptions
	// AssociationsRead is false when the Pod Identity associations could not be listed (see the notes).
	AssociationsRead bool
	Notes            []string
	// CouldNotCheck lists the reads that failed: the export would be incomplete.
	CouldNotCheck []string
}

// AssociationOptions are the options of an EKS Pod Identity association.
type AssociationOptions struct {
	TargetRoleARN      string
	DisableSessionTags bool
}

// Identities reads what export needs in a namespace ("" for all): List (the same reads), then, for each distinct
// role that exists, its inline policy policyName and its attached policies (at most maxInFlight reads at once,
// each through the role account's client). A failed read is could-not-check, never a smaller result.
func (in *Inspector) Identities(ctx context.Context, namespace, policyName string) (*Identities, error) {
	res, err := in.List(ctx, namespace)
	if err != nil {
		return nil, err
	}
	out := &Identities{Items: res.Items, Inline: map[string]string{}, Attached: map[string][]string{}, Associations: map[string]AssociationOptions{}}
	list, ok := in.associationsIn(ctx, namespace) // cached: List read them
	out.AssociationsRead = ok
	for _, a := range list {
		out.Associations[a.namespace+"/"+a.serviceAccount] = AssociationOptions{TargetRoleARN: a.targetRoleARN, DisableSessionTags: a.disableSessionTags}
	}
	roles := map[string]iamref.Role{}
	for _, it := range res.Items {
		if it.RoleExists != "yes" {
			continue
		}
		if r, err := iamref.ParseRole(strings.TrimSpace(it.RoleARN)); err == nil {
			roles[r.ARN] = r
		}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxInFlight)
	for _, r := range roles {
		g.Go(func() error {
			client := in.clientOf(r.Account)
			doc, found, err := state.InlinePolicy(gctx, client, r.Name, policyName)
			if err != nil {
				in.couldNotCheck("the inline policy of role "+r.Name, err)
			}
			attached, aerr := state.AttachedPolicies(gctx, client, r.Name)
			if aerr != nil {
				in.couldNotCheck("the managed policies of role "+r.Name, aerr)
			}
			mu.Lock()
			defer mu.Unlock()
			if found {
				out.Inline[r.ARN] = doc
			}
			for _, a := range attached {
				out.Attached[r.ARN] = append(out.Attached[r.ARN], a.ARN)
			}
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil: failed reads are recorded as could-not-check
	out.Notes, out.CouldNotCheck = in.Notes(), in.Unchecked()
	return out, nil
}
