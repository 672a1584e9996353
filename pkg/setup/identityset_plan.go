package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// plan names the drift and orders the steps that repair it: providers, roles (created with the set's tag, trust
// subjects and our Pod Identity statement, the ServiceAccounts' statements, managed policies), then each
// ServiceAccount's annotation (with the set's mark) or association; with --prune, the removals last.
func (pl *SetPlan) plan() {
	pl.steps = &steps.Plan{}
	kube := pl.p.Kube
	seen := map[*ProviderState]bool{}
	for _, arn := range pl.order {
		r := pl.roles[arn]
		if !r.irsa() || seen[r.provider] {
			continue
		}
		seen[r.provider] = true
		if !r.provider.Exists {
			pl.addDrift(DriftProviderMissing, "oidc-provider/"+r.provider.Provider.HostPath, "no IAM OIDC provider for "+r.s.Issuer+" in account "+r.ref.Account)
		}
		pl.steps.Add(r.s.providerStep(*r.provider, iamref.DefaultAudience, pl.thumbprints[r.ref.Account]))
	}

	// associations first computed, so a role's trust step re-checks our Pod Identity statement when one is written
	assocSteps := map[string]*steps.Step{}
	assocWrites := map[*setRole]bool{}
	for _, key := range sortedKeys(pl.sas) {
		a := pl.sas[key]
		if r := a.role; r.pi() {
			st := pl.p.associationStep(associationWant{Namespace: a.ns, ServiceAccount: a.name, RoleARN: r.ref.ARN, ARN: r.arnNow,
				TargetRoleARN: r.pod.TargetRoleArn, DisableSessionTags: r.pod.DisableSessionTags}, a.assoc)
			assocSteps[key] = st
			assocWrites[r] = assocWrites[r] || st.Do != nil
		}
	}

	for _, arn := range pl.order {
		r := pl.roles[arn]
		rp := r.plan
		pl.steps.LockKeys = append(pl.steps.LockKeys, arn)
		obj := "role/" + r.ref.Name
		if !rp.Exists {
			pl.addDrift(DriftRoleMissing, obj, "role "+r.ref.ARN+" does not exist")
			if !r.byName && pl.missing == nil {
				pl.missing = errorf(ErrRoleMissing, "role %s of set %s does not exist: create it, or name it with `name:` so apply creates it", r.ref.ARN, r.set)
			}
		} else {
			for _, added := range rp.Added {
				if added == trust.ServicePodIdentity {
					pl.addDrift(DriftSubjectMissing, obj, "trust lacks statement "+trust.PodIdentitySid+" for "+trust.ServicePodIdentity)
				} else {
					pl.addDrift(DriftSubjectMissing, obj, "trust does not admit "+added)
				}
			}
			for _, m := range rp.Attach {
				pl.addDrift(DriftPolicyNotAttached, obj, m+" is not attached")
			}
			if foreign := rp.OldTrust.ForeignPrincipals(); len(foreign) > 0 {
				pl.info = append(pl.info, fmt.Sprintf("role %s: trust has %d statement(s) kubectl irsa did not write, kept as they are, not compared: %s",
					r.ref.Name, len(foreign), listSome(foreign, 5)))
			}
			if rp.ForeignStatements > 0 {
				pl.info = append(pl.info, fmt.Sprintf("role %s: inline policy %s has %d statement(s) kubectl irsa did not write: kept as they are, not compared", r.ref.Name, InlinePolicyName, rp.ForeignStatements))
			}
			pl.statementDrift(r)
		}
		pl.steps.Add(rp.steps(r.s.writer(), assocWrites[r])...)
	}

	for _, key := range sortedKeys(pl.sas) {
		a := pl.sas[key]
		r := a.role
		obj := "serviceaccount/" + key
		mark := map[string]string{SetAnnotation: a.set}
		marked := a.sa.Annotations[SetAnnotation] == a.set
		if !a.sa.Exists {
			pl.addDrift(DriftServiceAccountMissing, obj, "does not exist: apply creates it")
		}
		if r.irsa() {
			switch {
			case !a.sa.Exists:
			case a.sa.RoleARN == "":
				pl.addDrift(DriftAnnotationMissing, obj, "no "+iamref.RoleARNAnnotation+" annotation (want "+r.ref.ARN+")")
			case a.sa.RoleARN != r.ref.ARN:
				pl.addDrift(DriftAnnotationOther, obj, iamref.RoleARNAnnotation+" is "+a.sa.RoleARN+", want "+r.ref.ARN)
			}
			if !a.sa.Exists || a.sa.RoleARN != r.ref.ARN {
				op := "+"
				if a.sa.RoleARN != "" {
					op = "~"
				}
				pl.steps.Add(annotationStep(kube, a.sa, op, annotationChange{RoleARN: r.ref.ARN, ARN: r.arnNow, Extra: mark}))
				pl.changed = append(pl.changed, a)
			} else if !marked {
				pl.info = append(pl.info, fmt.Sprintf("serviceaccount %s is linked as the file says but carries no %s=%s mark: --prune leaves it alone until apply changes it", key, SetAnnotation, a.set))
			}
			if r.mechanism == "irsa" && a.assoc != nil {
				pl.addDrift(DriftMechanismConflict, obj, fmt.Sprintf("the file asks for IRSA, but Pod Identity association %s (role %s) takes precedence", aws.ToString(a.assoc.AssociationId), aws.ToString(a.assoc.RoleArn)))
			}
		}
		if st := assocSteps[key]; st != nil {
			res := "podidentityassociation/" + key
			switch {
			case a.assoc == nil:
				pl.addDrift(DriftAssociationMissing, res, "no Pod Identity association in cluster "+pl.p.Cluster)
			case st.Do != nil:
				pl.addDrift(DriftAssociationOther, res, fmt.Sprintf("association %s uses role %s (target %q), want %s (target %q)", aws.ToString(a.assoc.AssociationId),
					aws.ToString(a.assoc.RoleArn), aws.ToString(a.assoc.TargetRoleArn), r.ref.ARN, r.pod.TargetRoleArn))
			}
			if !r.irsa() && (!a.sa.Exists || st.Do != nil && !marked) {
				pl.steps.Add(annotationStep(kube, a.sa, "~", annotationChange{Extra: mark}))
			}
			pl.steps.Add(st)
			if st.Do != nil {
				pl.changed = append(pl.changed, a)
			}
			if r.mechanism == "pod-identity" && a.sa.RoleARN != "" {
				pl.addDrift(DriftMechanismConflict, obj, "the file asks for Pod Identity only, but the ServiceAccount is annotated "+iamref.RoleARNAnnotation+"="+a.sa.RoleARN)
			}
		}
	}
	pl.planPrune()
}

// arnNow is the role's ARN as IAM answered it once written (the planned one before).
func (r *setRole) arnNow() string {
	if r.plan != nil && r.plan.ARN != "" {
		return r.plan.ARN
	}
	return r.ref.ARN
}

// statementDrift names each listed ServiceAccount whose statements in the role's inline policy are missing or
// differ from the file's, and (with drift) the statements of ServiceAccounts that list no permissions.
func (pl *SetPlan) statementDrift(r *setRole) {
	res := "role/" + r.ref.Name + "/policy/" + InlinePolicyName
	for _, a := range r.sas {
		sid := PolicySid(a.ns, a.name)
		had, err := ownedIn(r.plan.OldPolicy, sid)
		if err != nil {
			continue // PlanRole refused an unreadable policy already
		}
		want, err := a.perms.OwnedStatements(sid)
		if err != nil {
			continue
		}
		switch {
		case a.perms.Document == "" && len(had) > 0:
			pl.addDrift(DriftStatementExtra, res, "statement "+sid+" of "+a.key()+": the file lists no permissions for it")
			if pl.req.Prune {
				pl.steps.Add(removeOwnedStep(r.s.writer(), r.ref.Name, sid, api.Action{Op: "-", Resource: res, Detail: "inline policy: remove statement " + sid + " of " + a.key(), Status: api.StatusPlanned}))
			}
		case a.perms.Document == "":
		case len(had) == 0:
			pl.addDrift(DriftStatementMissing, res, "statement "+sid+" of "+a.key()+" missing ("+a.perms.Summary()+")")
		case !sameStatements(had, want) && !sameMeaning(had, want):
			pl.addDrift(DriftStatementChanged, res, "statement "+sid+" of "+a.key()+" differs from the file ("+a.perms.Summary()+")")
		}
	}
}

func (pl *SetPlan) addDrift(class, object, detail string) {
	pl.drift = append(pl.drift, api.Drift{Class: class, Object: object, Detail: detail})
}

// Result describes the plan: its actions (planned or unchanged), the drift, information and hints.
func (pl *SetPlan) Result(kind string) *api.SetResult {
	r := api.NewSetResult(kind)
	for _, s := range pl.req.Sets {
		if !slices.Contains(r.Sets, s.Metadata.Name) {
			r.Sets = append(r.Sets, s.Metadata.Name)
		}
	}
	r.Actions = pl.steps.Actions()
	r.Drift = append(r.Drift, pl.drift...)
	r.Info = pl.info
	r.Hints = append(r.Hints, pl.hints...)
	r.DryRun = pl.req.DryRun
	r.Unchanged = !pl.steps.Changed()
	return r
}

// Drifted reports whether live state differs from the sets.
func (pl *SetPlan) Drifted() bool { return len(pl.drift) > 0 }

// Apply writes the plan with the one executor, under every role's lock; a failure rolls back this run's writes.
// Restarts (when asked) come last and are not rolled back.
func (pl *SetPlan) Apply(ctx context.Context) (*api.SetResult, error) {
	if pl.missing != nil && pl.steps.Changed() {
		res := pl.Result("ApplyResult")
		return res, fmt.Errorf("%w (nothing was changed)", pl.missing)
	}
	if pl.steps.Changed() {
		if err := pl.precheck(ctx); err != nil {
			res := pl.Result("ApplyResult")
			if !pl.req.DryRun {
				markAll(res, api.StatusPlanned, api.StatusFailed)
				err = fmt.Errorf("%w (nothing was changed)", err)
			}
			return res, err
		}
		if !pl.req.DryRun {
			if err := pl.checkCanWrite(ctx); err != nil {
				return pl.Result("ApplyResult"), err
			}
		}
	}
	err := pl.p.apply(ctx, pl.steps, pl.req.DryRun)
	res := pl.Result("ApplyResult")
	if err != nil || pl.req.DryRun {
		return res, err
	}
	for _, arn := range pl.order {
		res.Hints = append(res.Hints, pl.roles[arn].plan.Notes...)
	}
	return res, pl.followUp(ctx, res)
}

func markAll(res *api.SetResult, from, to string) {
	for i := range res.Actions {
		if res.Actions[i].Status == from {
			res.Actions[i].Status = to
		}
	}
}

// precheck refuses, before the first write, an inline policy that would not fit with the role's other ones.
func (pl *SetPlan) precheck(ctx context.Context) error {
	for _, arn := range pl.order {
		r := pl.roles[arn]
		if err := r.plan.PrecheckPolicy(ctx, r.s.IAM); err != nil {
			return err
		}
	}
	return nil
}

// checkCanWrite asks once per namespace whether the user may patch (and create) its ServiceAccounts.
func (pl *SetPlan) checkCanWrite(ctx context.Context) error {
	type need struct{ patch, create bool }
	needs := map[string]*need{}
	for _, a := range pl.changed {
		n := needs[a.ns]
		if n == nil {
			n = &need{}
			needs[a.ns] = n
		}
		if a.sa.Exists {
			n.patch = true
		} else {
			n.create = true
		}
	}
	for _, ns := range sortedKeys(needs) {
		if needs[ns].patch {
			if err := checkCanWrite(ctx, pl.p.Kube, ns, "", false); err != nil {
				return err
			}
		}
		if needs[ns].create {
			if err := checkCanWrite(ctx, pl.p.Kube, ns, "", true); err != nil {
				return err
			}
		}
	}
	return nil
}

// followUp restarts (or lists for restarting) the workloads of each changed ServiceAccount whose pods predate
// the change.
func (pl *SetPlan) followUp(ctx context.Context, res *api.SetResult) error {
	restart := pl.req.Restart && !pl.req.DryRun
	for _, a := range pl.changed {
		if !a.sa.Exists {
			continue
		}
		one := api.NewResult("")
		var err error
		if a.role.irsa() {
			err = pl.p.followUp(ctx, one, a.ns, a.name, restart)
		} else {
			err = pl.p.followUpPodIdentity(ctx, one, a.ns, a.name, restart)
		}
		if err != nil {
			return err
		}
		res.Actions = append(res.Actions, one.Actions...)
		res.Hints = append(res.Hints, one.Hints...)
	}
	return nil
}

// ErrRoleHasOthers: a role the set created was kept by --prune because something else uses it now.
var ErrRoleHasOthers = errors.New("role is used by others")

// joinSorted joins a sorted copy of list.
func joinSorted(list []string) string {
	out := slices.Clone(list)
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// listSome joins the first n items with "; " and counts the rest.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:n], "; "), len(items)-n)
}
