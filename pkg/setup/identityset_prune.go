package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// pruneRole is what --prune removes from one role: subjects of our trust statement, owners' statements, our
// Pod Identity statement (unless an association still uses the role), or the whole role when the set created it
// and nothing else is left.
type pruneRole struct {
	ref      iamref.Role
	s        *Setup
	set      string
	trust    *trust.Document
	policy   string
	tags     map[string]string
	listed   bool
	subjects []string
	owners   []string
	podIdent bool
}

// planPrune names what the sets marked and no longer list (drift whether or not --prune is given) and, with
// --prune, adds the steps removing it: association deletions, trust subjects, statements, annotations, and
// last the roles the set created that nothing else uses. A ServiceAccount, a foreign statement and a role the set
// did not create are never deleted.
func (pl *SetPlan) planPrune() {
	roles := map[string]*pruneRole{}
	role := func(arn string) *pruneRole {
		if pr := roles[arn]; pr != nil {
			return pr
		}
		var pr *pruneRole
		if r := pl.roles[arn]; r != nil && r.plan != nil && r.plan.Exists {
			pr = &pruneRole{ref: r.ref, s: r.s, trust: r.plan.OldTrust, policy: r.plan.OldPolicy, tags: r.plan.Tags, listed: true}
		} else if lr := pl.pruned[arn]; lr != nil && lr.exists {
			pr = &pruneRole{ref: lr.ref, s: lr.s, trust: lr.trust, policy: lr.policy, tags: lr.tags}
		}
		roles[arn] = pr
		return pr
	}
	var assocDeletes, annotationSteps []*steps.Step
	for _, sa := range pl.marked() {
		key := sa.Namespace + "/" + sa.Name
		set := sa.Annotations[SetAnnotation]
		a := pl.sas[key]
		var file *setRole
		if a != nil {
			file = a.role
		}
		subject := trust.Subject(sa.Namespace, sa.Name)
		sid := PolicySid(sa.Namespace, sa.Name)
		keepStatements := func(arn string) bool { return file != nil && file.ref.ARN == arn }

		if sa.RoleARN != "" && (file == nil || !file.irsa() || file.ref.ARN != sa.RoleARN) {
			if pr := role(sa.RoleARN); pr != nil {
				pr.set = set
				provider := trust.NewProvider(pr.ref.Partition, pr.ref.Account, pl.p.Issuer)
				if slices.Contains(pr.trust.Subjects(provider), subject) {
					pl.addDrift(DriftSubjectExtra, "role/"+pr.ref.Name, fmt.Sprintf("trust admits %s, which set %s no longer gives this role", subject, set))
					pr.subjects = append(pr.subjects, subject)
				}
				if others := pr.trust.OtherProvidersListing(provider, subject); len(others) > 0 && !keepStatements(sa.RoleARN) {
					pl.info = append(pl.info, fmt.Sprintf("role %s: statement %s is kept: the same ServiceAccount of another cluster (%s) uses it", pr.ref.Name, sid, strings.Join(others, ", ")))
				} else if !keepStatements(sa.RoleARN) && pl.ownedBy(pr, sid, key) {
					pr.owners = append(pr.owners, sid)
				}
			}
		}
		if as := pl.assocs[key]; as != nil && (file == nil || !file.pi()) {
			arn := aws.ToString(as.RoleArn)
			if file == nil || file.mechanism != "irsa" {
				pl.addDrift(DriftAssociationExtra, "podidentityassociation/"+key, fmt.Sprintf("association %s (role %s) is no longer listed by set %s", aws.ToString(as.AssociationId), arn, set))
			}
			if pl.req.Prune {
				assocDeletes = append(assocDeletes, pl.p.deleteAssociationStep(key, as))
			}
			if pr := role(arn); pr != nil {
				pr.set = set
				if r := pl.roles[arn]; r == nil || !r.pi() {
					pr.podIdent = true
				}
				if !keepStatements(arn) && arn != sa.RoleARN && pl.ownedBy(pr, sid, key) {
					pr.owners = append(pr.owners, sid)
				}
			}
		}
		var remove []string
		switch {
		case file == nil:
			remove = append(remove, SetAnnotation)
			if sa.RoleARN != "" {
				remove = append(remove, iamref.RoleARNAnnotation)
			}
		case !file.irsa() && sa.RoleARN != "":
			remove = append(remove, iamref.RoleARNAnnotation)
		}
		if len(remove) > 0 {
			if file == nil {
				pl.addDrift(DriftServiceAccountExtra, "serviceaccount/"+key, "marked by set "+set+" but no longer listed: --prune unlinks it (the ServiceAccount is kept)")
			}
			if pl.req.Prune {
				annotationSteps = append(annotationSteps, annotationStep(pl.p.Kube, sa, "-", annotationChange{Remove: remove}))
			}
		}
	}
	if !pl.req.Prune {
		return
	}
	pl.steps.Add(assocDeletes...)
	var deletes []*steps.Step
	for _, arn := range sortedKeys(roles) {
		pr := roles[arn]
		if pr == nil || len(pr.subjects) == 0 && len(pr.owners) == 0 && !pr.podIdent {
			continue
		}
		pl.steps.LockKeys = append(pl.steps.LockKeys, arn)
		if pr.deletable() {
			deletes = append(deletes, pl.deleteRoleStep(pr))
			continue
		}
		w := pr.s.writer()
		if len(pr.subjects) > 0 {
			rest := pr.trust.Clone()
			provider := trust.NewProvider(pr.ref.Partition, pr.ref.Account, pl.p.Issuer)
			if _, err := rest.RemoveSubjects(provider, iamref.DefaultAudience, pr.subjects...); errors.Is(err, trust.ErrEmptyPolicy) {
				pl.hints = append(pl.hints, fmt.Sprintf("role %s: %s are the last subjects its trust admits and IAM refuses an empty trust: left; delete the role by hand if nothing uses it", pr.ref.Name, joinSorted(pr.subjects)))
			} else {
				pl.steps.Add(removeSubjectsStep(w, pr.ref.Name, provider, iamref.DefaultAudience, pr.subjects))
			}
		}
		for _, sid := range pr.owners {
			res := "role/" + pr.ref.Name + "/policy/" + InlinePolicyName
			pl.steps.Add(removeOwnedStep(w, pr.ref.Name, sid, api.Action{Op: "-", Resource: res, Detail: "inline policy: remove statement " + sid, Status: api.StatusPlanned}))
		}
		if pr.podIdent {
			pl.steps.Add(pl.removePodIdentityStep(pr))
		}
	}
	pl.steps.Add(annotationSteps...)
	pl.steps.Add(deletes...)
}

// ownedBy reports (and names as drift) the statements of sid in the role's inline policy.
func (pl *SetPlan) ownedBy(pr *pruneRole, sid, key string) bool {
	had, err := ownedIn(pr.policy, sid)
	if err != nil || len(had) == 0 {
		return false
	}
	pl.addDrift(DriftStatementExtra, "role/"+pr.ref.Name+"/policy/"+InlinePolicyName, "statement "+sid+" of "+key+" is no longer listed for this role")
	return true
}

// deletable: the set created the role (its tag), the sets no longer list it, and without what is pruned its trust
// and inline policy hold nothing.
func (pr *pruneRole) deletable() bool {
	if pr.listed || pr.tags[SetTagKey] != pr.set || pr.tags[ManagedByTagKey] != ManagedByTagValue {
		return false
	}
	return pr.emptyWithout(pr.trust, pr.policy)
}

// emptyWithout reports whether the trust and policy hold nothing but what is pruned.
func (pr *pruneRole) emptyWithout(d *trust.Document, policy string) bool {
	rest := d.Clone()
	left := 0
	for _, raw := range rest.Statements {
		st, err := trust.ParseStatement(raw)
		if err != nil {
			return false
		}
		switch {
		case slices.Contains(st.Principal.Service, trust.ServicePodIdentity) && pr.podIdent && st.Sid == trust.PodIdentitySid:
		case len(st.Principal.Federated) > 0 && onlySubjects(st, pr.subjects):
		default:
			left++
		}
	}
	if left > 0 {
		return false
	}
	doc := policy
	for _, sid := range pr.owners {
		var err error
		if doc, err = setOwned(doc, sid, nil); err != nil {
			return false
		}
	}
	return doc == ""
}

// onlySubjects reports whether every sub value of the statement is one of subjects.
func onlySubjects(st trust.Statement, subjects []string) bool {
	found := false
	for _, keys := range st.Condition {
		for key, values := range keys {
			if len(key) > 4 && key[len(key)-4:] == ":sub" {
				for _, v := range values {
					if !slices.Contains(subjects, v) {
						return false
					}
					found = true
				}
			}
		}
	}
	return found
}

// deleteRoleStep deletes a role the set created once nothing but what is pruned is left in it, checked again
// under the lock: when another run joined it since, only what is pruned is removed and the role is kept.
func (pl *SetPlan) deleteRoleStep(pr *pruneRole) *steps.Step {
	return &steps.Step{
		Action: api.Action{Op: "-", Resource: "role/" + pr.ref.Name, Detail: "delete role (created by set " + pr.set + "; nothing else uses it)", Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			cur, err := readTrust(ctx, pr.s.IAM, pr.ref.Name)
			if err != nil {
				return err
			}
			pol, err := readInlinePolicy(ctx, pr.s.IAM, pr.ref.Name)
			if err != nil {
				return err
			}
			if pr.emptyWithout(cur, pol) {
				if pr.podIdent && pl.p.EKS != nil && pl.p.Cluster != "" {
					users, err := pl.p.RoleUsers(ctx, pr.ref.ARN, "")
					if err != nil {
						return err
					}
					if len(users) > 0 {
						return errorf(ErrRoleHasOthers, "role %s: association(s) %s use it: not deleted", pr.ref.Name, joinSorted(users))
					}
				}
				kept, err := deleteOwnRole(ctx, pr.s.IAM, pr.ref.Name)
				if kept != "" {
					pl.hints = append(pl.hints, kept)
					return steps.ErrUnchanged
				}
				return err
			}
			return errorf(ErrRoleHasOthers, "role %s was joined by others since the plan: not deleted; re-run apply --prune", pr.ref.Name)
		},
	}
}

// removePodIdentityStep removes our Pod Identity statement from a role no association of the sets uses any more
// (kept when another association of the cluster uses it).
func (pl *SetPlan) removePodIdentityStep(pr *pruneRole) *steps.Step {
	w := pr.s.writer()
	return &steps.Step{
		Action: api.Action{Op: "~", Resource: "role/" + pr.ref.Name, Detail: "trust: remove statement " + trust.PodIdentitySid + " unless another association uses the role", Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			err := pl.p.removePodIdentityUnlessUsed(ctx, w, pr.ref.ARN, pr.ref.Name, "")
			if steps.IsKept(err) {
				pl.hints = append(pl.hints, err.Error())
				return steps.ErrUnchanged
			}
			return err
		},
		Undo: func(ctx context.Context) error {
			_, err := w.updateTrust(ctx, pr.ref.Name, addPodIdentityMutation(trust.PodIdentityRequest{}, 0))
			return err
		},
		UndoWhat: "add statement " + trust.PodIdentitySid + " back to the trust of role " + pr.ref.Name,
	}
}

// deleteAssociationStep deletes a ServiceAccount's association; the undo creates it again (with a new id).
func (p *PodIdentity) deleteAssociationStep(key string, as *ekstypes.PodIdentityAssociation) *steps.Step {
	id := aws.ToString(as.AssociationId)
	return &steps.Step{
		Action: api.Action{Op: "-", Resource: "podidentityassociation/" + key, Detail: "delete association " + id + " (role " + aws.ToString(as.RoleArn) + ")", Status: api.StatusPlanned},
		Do:     func(ctx context.Context) error { return p.deleteAssociation(ctx, id) },
		Undo: func(ctx context.Context) error {
			_, err := p.createAssociation(ctx, aws.ToString(as.Namespace), aws.ToString(as.ServiceAccount), aws.ToString(as.RoleArn), aws.ToString(as.TargetRoleArn), aws.ToBool(as.DisableSessionTags))
			return err
		},
		UndoWhat: "create the association of " + key + " again",
	}
}
