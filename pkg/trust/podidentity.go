package trust

import (
	"encoding/json"
	"slices"
	"strings"
)

const (
	// ServicePodIdentity is the service principal EKS Pod Identity assumes roles as.
	ServicePodIdentity = "pods.eks.amazonaws.com"
	// ActionAssumeRole and ActionTagSession are the two actions EKS Pod Identity needs on the role.
	ActionAssumeRole = "sts:AssumeRole"
	ActionTagSession = "sts:TagSession"
	// PodIdentitySid is the Sid of the Pod Identity statement kubectl irsa writes.
	PodIdentitySid = sidPrefix + "PodIdentity"
)

// PodIdentityRequest is what the evaluator knows of the AssumeRole call EKS Pod Identity makes. Context holds the
// condition keys whose value is known (aws:RequestTag/kubernetes-namespace, aws:SourceAccount, ...); every other
// global or service key is unknown, so a verdict that depends on it is CannotTell.
type PodIdentityRequest struct {
	Context map[string]string
}

// PodIdentitySessionTags returns the aws:RequestTag/... keys of the session tags EKS Pod Identity sends (EKS
// user guide, "Create IAM role with trust policy required by EKS Pod Identity") for the values given; empty
// values are left out (unknown), as are the per-pod tags kubernetes-pod-name and kubernetes-pod-uid.
func PodIdentitySessionTags(clusterARN, clusterName, namespace, serviceAccount string) map[string]string {
	tags := map[string]string{}
	for k, v := range map[string]string{
		"eks-cluster-arn": clusterARN, "eks-cluster-name": clusterName,
		"kubernetes-namespace": namespace, "kubernetes-service-account": serviceAccount,
	} {
		if v != "" {
			tags["aws:RequestTag/"+k] = v
		}
	}
	return tags
}

// PodIdentityEvaluation is the outcome of a trust policy for EKS Pod Identity: both actions are needed.
type PodIdentityEvaluation struct {
	// Verdict is Admits when both actions are admitted, Refuses when either is certainly refused.
	Verdict    Verdict    `json:"verdict"`
	AssumeRole Evaluation `json:"assumeRole"`
	TagSession Evaluation `json:"tagSession"`
	// Missing lists the actions (sts:AssumeRole, sts:TagSession) the trust certainly refuses.
	Missing     []string `json:"missing,omitempty"`
	UnknownKeys []string `json:"unknownKeys,omitempty"`
}

// EvaluatePodIdentity decides whether the trust lets pods.eks.amazonaws.com call both sts:AssumeRole and
// sts:TagSession, honouring Deny statements and conditions.
func (d *Document) EvaluatePodIdentity(r PodIdentityRequest) PodIdentityEvaluation {
	lookup := func(key string) (string, keyState) {
		for k, v := range r.Context {
			if strings.EqualFold(k, key) {
				return v, keyPresent
			}
		}
		if isProviderKey(key) {
			return "", keyAbsent // web identity claims are not part of a service's AssumeRole
		}
		return "", keyUnknown
	}
	principal := func(p Principal) bool { return slices.Contains(p.Service, ServicePodIdentity) }
	ev := PodIdentityEvaluation{
		AssumeRole: d.evaluate(request{action: ActionAssumeRole, principal: principal, lookup: lookup}),
		TagSession: d.evaluate(request{action: ActionTagSession, principal: principal, lookup: lookup}),
	}
	for _, a := range []struct {
		action string
		ev     Evaluation
	}{{ActionAssumeRole, ev.AssumeRole}, {ActionTagSession, ev.TagSession}} {
		if a.ev.Verdict == Refuses {
			ev.Missing = append(ev.Missing, a.action)
		}
		ev.UnknownKeys = append(ev.UnknownKeys, a.ev.UnknownKeys...)
	}
	slices.Sort(ev.UnknownKeys)
	ev.UnknownKeys = slices.Compact(ev.UnknownKeys)
	switch {
	case len(ev.Missing) > 0:
		ev.Verdict = Refuses
	case ev.AssumeRole.Verdict == Admits && ev.TagSession.Verdict == Admits:
		ev.Verdict = Admits
	default:
		ev.Verdict = CannotTell
	}
	return ev
}

// TrustsPodIdentity reports whether some Allow statement names pods.eks.amazonaws.com for sts:AssumeRole,
// whatever its conditions: the role is meant for Pod Identity.
func (d *Document) TrustsPodIdentity() bool {
	for _, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil || st.Effect != "Allow" || st.NotPrincipal != nil || !slices.Contains(st.Principal.Service, ServicePodIdentity) {
			continue
		}
		if len(st.NotAction) > 0 && !matchesAny(st.NotAction, ActionAssumeRole, true) || matchesAny(st.Action, ActionAssumeRole, true) {
			return true
		}
	}
	return false
}

// podIdentityStatement is the exact shape of the Pod Identity statement kubectl irsa writes.
type podIdentityStatement struct {
	Sid       string            `json:"Sid"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal"`
	Action    []string          `json:"Action"`
}

func newPodIdentityStatement() json.RawMessage {
	b, _ := json.Marshal(podIdentityStatement{
		Sid: PodIdentitySid, Effect: "Allow",
		Principal: map[string]string{"Service": ServicePodIdentity},
		Action:    []string{ActionAssumeRole, ActionTagSession},
	})
	return b
}

// podIdentityIndex finds our Pod Identity statement (-1 when none); our Sid on another shape is a
// *ForeignShapeError.
func (d *Document) podIdentityIndex() (int, error) {
	for i, raw := range d.Statements {
		st, err := ParseStatement(raw)
		if err != nil || !strings.EqualFold(st.Sid, PodIdentitySid) {
			continue
		}
		actions := slices.Sorted(slices.Values(st.Action))
		if st.Sid != PodIdentitySid || st.Effect != "Allow" || st.NotPrincipal != nil || len(st.NotAction) > 0 || len(st.Condition) > 0 ||
			st.Principal.Any || len(st.Principal.AWS)+len(st.Principal.Federated) > 0 || !slices.Equal(st.Principal.Service, []string{ServicePodIdentity}) ||
			!slices.Equal(actions, []string{ActionAssumeRole, ActionTagSession}) {
			return -1, &ForeignShapeError{Sid: st.Sid}
		}
		return i, nil
	}
	return -1, nil
}

// AddPodIdentity appends our statement allowing pods.eks.amazonaws.com sts:AssumeRole and sts:TagSession, unless
// the trust already admits both for this request (then nothing changes and there is nothing to write). A
// statement of another shape under our Sid is a *ForeignShapeError. Foreign statements are kept byte for byte.
// It reports whether the document changed; a Deny that still refuses shows in EvaluatePodIdentity.
func (d *Document) AddPodIdentity(r PodIdentityRequest) (bool, error) {
	idx, err := d.podIdentityIndex()
	if err != nil || idx >= 0 {
		return false, err
	}
	if d.EvaluatePodIdentity(r).Verdict == Admits {
		return false, nil
	}
	d.Statements = append(d.Statements, newPodIdentityStatement())
	return true, nil
}

// RemovePodIdentity removes our Pod Identity statement and nothing else. It reports whether it removed one;
// ErrEmptyPolicy when no statement would remain, a *ForeignShapeError when our Sid is on another shape (the
// document is then unchanged).
func (d *Document) RemovePodIdentity() (bool, error) {
	idx, err := d.podIdentityIndex()
	if err != nil || idx < 0 {
		return false, err
	}
	if len(d.Statements) == 1 {
		return false, ErrEmptyPolicy
	}
	d.Statements = slices.Delete(d.Statements, idx, idx+1)
	return true, nil
}
