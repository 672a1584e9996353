package setup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/state"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// GCIAMAPI is IAM as gc uses it: the write side's calls and the listing of every role.
type GCIAMAPI interface {
	IAMAPI
	state.RolesAPI
}

// GCEKSAPI is EKS as gc uses it: the clusters of a region and their Pod Identity associations.
type GCEKSAPI interface {
	state.ClustersAPI
	state.AssociationAPI
}

// GCRequest is what `kubectl irsa gc` is asked, already validated.
type GCRequest struct {
	// Regions are the regions whose EKS clusters are listed; an EKS provider of another region is not judged.
	Regions []string
	// LiveIssuers are the issuers (URLs) of the kubeconfig contexts whose API server answered: in use.
	LiveIssuers []string
	// IncludeForeign also deletes what kubectl irsa did not create (no managed-by tag).
	IncludeForeign bool
	// Confirm applies the plan; without it the plan is only printed.
	Confirm bool
}

// GCPlan is what gc found and would delete: every read done, nothing written.
type GCPlan struct {
	s        *Setup
	req      GCRequest
	steps    *steps.Plan
	notes    []string
	unread   []string
	nothing  bool
	keptLate []string
}

// eksIssuerHost matches the host and path of an EKS cluster's issuer and captures its region.
var eksIssuerHost = regexp.MustCompile(`^oidc\.eks\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/id/[A-Za-z0-9]+$`)

// gcProvider is an OIDC provider of the account as gc judged it.
type gcProvider struct {
	arn, hostPath string
	managed       bool
	// orphan: its issuer belongs to no cluster; judged false when it could not be (a note or could-not-check says why).
	orphan bool
}

// gcRole is a role whose trust names an orphan or missing provider.
type gcRole struct {
	name, arn string
	managed   bool
	// stale are the orphan or missing providers its statements name.
	stale []string
	// empty: removing those statements would leave none.
	empty bool
}

// PlanGC reads the account's OIDC providers, the EKS clusters of the regions and every role, and plans: the
// statements naming a provider whose cluster is gone (or that no longer exists) removed from the roles' trusts
// (read-merge-write under each role's lock), roles kubectl irsa created left with no subject and no Pod
// Identity association deleted, and each orphan provider deleted once no trust names it. Only what carries
// kubectl irsa's tag unless IncludeForeign. A read that fails holds back everything it concerns.
func (s *Setup) PlanGC(ctx context.Context, client GCIAMAPI, eksClient GCEKSAPI, req GCRequest) (*GCPlan, error) {
	p := &GCPlan{s: s, req: req, steps: &steps.Plan{}}
	caller, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	providers, err := state.OIDCProviders(ctx, client)
	if err != nil {
		return nil, err
	}
	roles, err := state.AllRoles(ctx, client)
	if err != nil {
		return nil, err
	}
	regions := state.EKSClusters(ctx, eksClient, req.Regions)
	live := map[string]bool{}
	for _, iss := range req.LiveIssuers {
		live[trust.HostPath(iss)] = true
	}
	regionErr := map[string]error{}
	for _, rc := range regions {
		if rc.Err != nil {
			regionErr[rc.Region] = rc.Err
			p.unread = append(p.unread, fmt.Sprintf("could not check the EKS clusters of %s: %v", rc.Region, rc.Err))
		}
		for _, c := range rc.Clusters {
			if c.Issuer != "" {
				live[trust.HostPath(c.Issuer)] = true
			}
		}
	}

	// orphan judges an issuer: true when it belongs to no cluster; else why not, as a note or a could-not-check.
	orphan := func(what, hostPath string) bool {
		switch m := eksIssuerHost.FindStringSubmatch(hostPath); {
		case live[hostPath]:
		case m != nil && !slices.Contains(req.Regions, m[1]):
			p.notes = append(p.notes, fmt.Sprintf("%s is for an EKS cluster of %s, a region not listed: not judged", what, m[1]))
		case m != nil && regionErr[m[1]] != nil:
			// its region's clusters could not be read: recorded above
		case m == nil:
			// Not an EKS issuer (GitHub Actions, GitLab, a self-managed cluster): no listing can tell that it is
			// gone, and a kubeconfig without it proves nothing.
			p.notes = append(p.notes, fmt.Sprintf("%s is not an EKS cluster's issuer: not judged", what))
		default:
			return true
		}
		return false
	}
	byARN := map[string]*gcProvider{}
	for _, op := range providers {
		gp := &gcProvider{arn: op.ARN, hostPath: providerHostPath(op.ARN), managed: isManaged(state.TagMap(op.Tags))}
		byARN[op.ARN] = gp
		if op.Err != nil {
			p.unread = append(p.unread, "could not check OIDC provider "+op.ARN+": "+op.Err.Error())
			continue
		}
		gp.orphan = orphan("OIDC provider "+op.ARN, gp.hostPath)
	}
	// A provider of this account that trusts name but that no longer exists: its statements are stale when its
	// issuer belongs to no cluster either (a live cluster's missing provider is to be created again, not dropped).
	missing := map[string]bool{}
	missingStale := func(arn string) bool {
		if v, ok := missing[arn]; ok {
			return v
		}
		hp := providerHostPath(arn)
		missing[arn] = orphan("the OIDC provider "+arn+" that trusts name but no longer exists", hp)
		if live[hp] {
			p.notes = append(p.notes, fmt.Sprintf("OIDC provider %s no longer exists but its cluster does: kubectl irsa provider create (with that cluster's context) restores it", arn))
		}
		return missing[arn]
	}
	ownProvider := func(arn string) bool {
		return strings.HasPrefix(arn, "arn:"+caller.Partition+":iam::"+caller.Account+":oidc-provider/")
	}
	// Roles whose trust names an orphan provider or one that no longer exists; which providers stay named.
	namedBy := map[string][]string{}
	var stale []*gcRole
	for _, r := range roles {
		name := aws.ToString(r.RoleName)
		d, err := trust.Parse(aws.ToString(r.AssumeRolePolicyDocument))
		if err != nil {
			p.unread = append(p.unread, fmt.Sprintf("could not check role %s: %v", name, err))
			for arn := range byARN {
				namedBy[arn] = append(namedBy[arn], name)
			}
			continue
		}
		gr := &gcRole{name: name, arn: aws.ToString(r.Arn)}
		for _, arn := range d.NamedProviders() {
			gp, exists := byARN[arn]
			if exists && gp.orphan || !exists && ownProvider(arn) && missingStale(arn) {
				gr.stale = append(gr.stale, arn)
			}
			namedBy[arn] = append(namedBy[arn], name)
		}
		if len(gr.stale) == 0 {
			continue
		}
		_, err = d.Clone().RemoveProviderStatements(gr.stale)
		gr.empty = errors.Is(err, trust.ErrEmptyPolicy)
		stale = append(stale, gr)
	}
	// Tags (ListRoles does not return them) and, for roles left empty, Pod Identity associations.
	var deletable []*gcRole
	for _, gr := range stale {
		role := state.ReadRole(ctx, client, gr.name)
		switch role.Presence {
		case state.Missing:
			continue
		case state.Unknown:
			p.unread = append(p.unread, fmt.Sprintf("could not check role %s: iam:GetRole: %v", gr.name, awsapi.Short(role.Err)))
			gr.stale = nil
			continue
		}
		gr.managed = isManaged(role.Tags)
		if !gr.managed && !req.IncludeForeign {
			p.notes = append(p.notes, fmt.Sprintf("role %s (not created by kubectl irsa) trusts gone provider(s) %s: kept; --include-foreign cleans it too", gr.name, strings.Join(gr.stale, ", ")))
			gr.stale = nil
			continue
		}
		if gr.empty {
			deletable = append(deletable, gr)
		}
	}
	inUse, assocErr := p.associatedRoles(ctx, eksClient, regions, deletable)
	for _, gr := range deletable {
		switch {
		case assocErr != nil:
			p.unread = append(p.unread, fmt.Sprintf("could not check whether role %s has a Pod Identity association: %v", gr.name, assocErr))
			gr.stale = nil
		case inUse[gr.arn]:
			p.notes = append(p.notes, fmt.Sprintf("role %s has no subject left but a Pod Identity association uses it: kept", gr.name))
			gr.stale = nil
		}
	}
	p.addRoleSteps(client, stale)
	// Providers: deleted when orphan, ours (or foreign allowed) and no trust still names them after the plan.
	cleaned := map[string]bool{}
	for _, gr := range stale {
		if gr.stale != nil {
			cleaned[gr.name] = true
		}
	}
	for _, arn := range slices.Sorted(maps.Keys(byARN)) {
		gp := byARN[arn]
		if !gp.orphan {
			continue
		}
		if !gp.managed && !req.IncludeForeign {
			p.steps.Add(&steps.Step{Action: api.Action{Op: "=", Resource: "oidc-provider/" + gp.hostPath, Detail: "its issuer matches no cluster, but kubectl irsa did not create it: kept (--include-foreign deletes it)", Status: api.StatusUnchanged}})
			continue
		}
		still := slices.DeleteFunc(slices.Clone(namedBy[arn]), func(r string) bool { return cleaned[r] })
		if len(still) > 0 {
			slices.Sort(still)
			p.steps.Add(&steps.Step{Action: api.Action{Op: "=", Resource: "oidc-provider/" + gp.hostPath, Detail: "its issuer matches no cluster, but role(s) " + strings.Join(slices.Compact(still), ", ") + " still trust it: kept", Status: api.StatusUnchanged}})
			continue
		}
		p.steps.Add(p.providerStep(client, gp))
	}
	p.nothing = !p.steps.Changed()
	return p, nil
}

// providerHostPath is the issuer host and path of a provider ARN.
func providerHostPath(arn string) string {
	_, hp, _ := strings.Cut(arn, ":oidc-provider/")
	return hp
}

// associatedRoles reads the Pod Identity associations of every cluster of the listed regions, only when a role
// may be deleted.
func (p *GCPlan) associatedRoles(ctx context.Context, client GCEKSAPI, regions []state.RegionClusters, deletable []*gcRole) (map[string]bool, error) {
	inUse := map[string]bool{}
	if len(deletable) == 0 {
		return inUse, nil
	}
	for _, rc := range regions {
		if rc.Err != nil {
			return nil, rc.Err
		}
		for _, c := range rc.Clusters {
			roles, err := state.RolesOfAssociations(ctx, client, c.Name, func(o *eks.Options) { o.Region = rc.Region })
			if err != nil && !awsapi.IsUnavailable(err) {
				return nil, err
			}
			maps.Copy(inUse, roles)
		}
	}
	return inUse, nil
}

// addRoleSteps plans, per role: its stale statements removed from the trust (merged under the role's lock; the
// undo puts them back), or the role deleted when none would be left.
func (p *GCPlan) addRoleSteps(client GCIAMAPI, roles []*gcRole) {
	w := p.s.writer()
	w.iam = client
	for _, gr := range roles {
		if gr.stale == nil {
			continue
		}
		gr := gr
		p.steps.LockKeys = append(p.steps.LockKeys, gr.arn)
		if gr.empty {
			p.steps.Add(&steps.Step{
				Action:   api.Action{Op: "-", Resource: "role/" + gr.name, Detail: "delete: its trust admits only gone provider(s) " + strings.Join(gr.stale, ", ") + " and no Pod Identity association uses it", Status: api.StatusPlanned},
				Do:       func(ctx context.Context) error { return p.deleteEmptyRole(ctx, w, gr) },
				UndoWhat: "recreate role " + gr.name + " (a deleted role cannot be restored)",
			})
			continue
		}
		var removed []json.RawMessage
		mutate := func(d *trust.Document) ([]string, error) {
			rm, err := d.RemoveProviderStatements(gr.stale)
			if err != nil || len(rm) == 0 {
				return nil, err
			}
			removed = rm
			return gr.stale, nil
		}
		p.steps.Add(&steps.Step{
			Action: api.Action{Op: "~", Resource: "role/" + gr.name, Detail: "trust: remove the statements naming gone provider(s) " + strings.Join(gr.stale, ", "), Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				changed, err := w.updateTrust(ctx, gr.name, mutate)
				if err != nil {
					return explainTrustError(gr.name, err)
				}
				if len(changed) == 0 {
					return steps.ErrUnchanged
				}
				return nil
			},
			Undo: func(ctx context.Context) error {
				restore := slices.Clone(removed)
				_, err := w.updateTrust(ctx, gr.name, func(d *trust.Document) ([]string, error) {
					if d.RestoreStatements(restore) == 0 {
						return nil, nil
					}
					return gr.stale, nil
				})
				return err
			},
			UndoWhat: "put the removed statements back into the trust of role " + gr.name,
		})
	}
}

// deleteEmptyRole deletes a role whose trust, read again under the lock, still admits nothing but gone providers.
func (p *GCPlan) deleteEmptyRole(ctx context.Context, w *docWriter, gr *gcRole) error {
	d, err := readTrust(ctx, w.iam, gr.name)
	if err != nil {
		return err
	}
	if _, err := d.RemoveProviderStatements(gr.stale); !errors.Is(err, trust.ErrEmptyPolicy) {
		return fmt.Errorf("role %s: its trust changed since the plan (it admits more than gone providers now): not deleted; re-run gc", gr.name)
	}
	kept, err := deleteOwnRole(ctx, w.iam, gr.name)
	if kept != "" {
		p.keptLate = append(p.keptLate, kept)
		return steps.ErrUnchanged
	}
	return err
}

// providerStep deletes an orphan provider, after checking again that no role's trust names it.
func (p *GCPlan) providerStep(client GCIAMAPI, gp *gcProvider) *steps.Step {
	owner := "created by kubectl irsa"
	if !gp.managed {
		owner = "not created by kubectl irsa (--include-foreign)"
	}
	return &steps.Step{
		Action: api.Action{Op: "-", Resource: "oidc-provider/" + gp.hostPath, Detail: "delete: its issuer matches no EKS cluster of the listed regions and no kubeconfig context, no trust names it (" + owner + ")", Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			roles, err := state.AllRoles(ctx, client)
			if err != nil {
				return err
			}
			for _, r := range roles {
				if trustNames(aws.ToString(r.AssumeRolePolicyDocument), gp.arn) {
					p.keptLate = append(p.keptLate, fmt.Sprintf("OIDC provider %s: role %s trusts it since the plan, so it was kept", gp.arn, aws.ToString(r.RoleName)))
					return steps.ErrUnchanged
				}
			}
			if err := DeleteProvider(ctx, client, gp.arn); err != nil && !awsapi.IsNotFound(err) {
				return fmt.Errorf("iam:DeleteOpenIDConnectProvider %s: %w", gp.arn, awsapi.Short(err))
			}
			return nil
		},
		UndoWhat: "recreate OIDC provider " + gp.arn + " (kubectl irsa provider create)",
	}
}

// Result describes the plan (or, once applied, what was done).
func (p *GCPlan) Result() *api.Result {
	res := api.NewResult("GCResult")
	res.Actions = p.steps.Actions()
	res.DryRun = !p.req.Confirm
	res.Unchanged = p.nothing
	res.Hints = append(slices.Clone(p.notes), p.keptLate...)
	res.CouldNotCheck = slices.Clone(p.unread)
	return res
}

// CouldNotCheck are the reads that failed: what they concern was left alone.
func (p *GCPlan) CouldNotCheck() []string { return slices.Clone(p.unread) }

// Apply deletes what the plan found, only when confirmed; a failed step rolls back the trust changes of the run.
func (p *GCPlan) Apply(ctx context.Context) (*api.Result, error) {
	err := p.s.apply(ctx, p.steps, !p.req.Confirm)
	return p.Result(), err
}

var _ Plan = (*GCPlan)(nil)
