package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// Audit severities.
const (
	High   = report.High
	Medium = report.Medium
	Low    = report.Low
)

// Audit finding ids.
const (
	WildcardSubject   = "WildcardSubject"
	MissingAudience   = "MissingAudience"
	MissingSubject    = "MissingSubject"
	ForeignPrincipal  = "ForeignPrincipal"
	DanglingSubject   = "DanglingSubject"
	MultiClusterTrust = "MultiClusterTrust"
	AdminPermissions  = "AdminPermissions"
	CrossAccountNoIdP = "CrossAccountNoProvider"
	// NegatedSubject: an Allow statement's sub condition is negated (StringNotEquals, StringNotLike, ...).
	NegatedSubject = "NegatedSubject"
	// PodIdentityNoTagSession: the role is trusted by pods.eks.amazonaws.com but not for sts:TagSession.
	PodIdentityNoTagSession = "PodIdentityNoTagSession"
	// TrustNearQuota: the role's trust policy uses 80% or more of the account's trust policy quota.
	TrustNearQuota = "TrustNearQuota"
)

// AuditRole is one IAM role under audit.
type AuditRole struct {
	Name, ARN string
	Trust     *trust.Document
	// UsedBy lists the ServiceAccounts (NS/NAME) whose annotation names the role.
	UsedBy []string
	// Policies are its identity policy documents and AttachedNames the names of its managed policies; both are
	// read only for roles used by a ServiceAccount.
	Policies      []string
	AttachedNames []string
}

// AuditRoleRules checks one role's trust (for statements naming this cluster's provider) and permissions.
// existingSAs holds every ServiceAccount (NS/NAME) in scope, for dangling subjects; inScope says whether a
// namespace is audited.
func AuditRoleRules(r AuditRole, provider trust.Provider, issuerURL string, existingSAs map[string]bool, inScope func(ns string) bool) []Finding {
	target := "role/" + r.Name
	var out []Finding
	add := func(id string, sev Severity, summary string, evidence ...string) {
		out = append(out, Finding{ID: id, Severity: sev, Check: "iam", Target: target, Summary: summary, Evidence: evidence})
	}
	if r.Trust == nil {
		return out
	}
	providers := map[string]bool{}
	namesUs := false
	for i, raw := range r.Trust.Statements {
		st, err := trust.ParseStatement(raw)
		if err != nil || st.Effect != "Allow" {
			continue
		}
		for _, fed := range st.Principal.Federated {
			if strings.Contains(fed, ":oidc-provider/") {
				providers[fed] = true
			}
			if fed == issuerURL || fed == provider.HostPath {
				add(ForeignPrincipal, Medium, fmt.Sprintf("statement %d names the issuer URL %q as Federated principal: IAM wants the provider ARN %s, so no pod can assume this role", i, fed, provider.ARN))
			}
		}
		if !slices.Contains(st.Principal.Federated, provider.ARN) {
			continue
		}
		namesUs = true
		var subs []string
		hasSub, hasAud := false, false
		for op, keys := range st.Condition {
			for key, values := range keys {
				switch {
				case strings.EqualFold(key, provider.HostPath+":sub"):
					hasSub = true
					if strings.Contains(op, "Like") && !strings.Contains(op, "Not") {
						for _, v := range values {
							if trust.HasWildcard(v) {
								sev := Medium
								if !strings.HasPrefix(v, "system:serviceaccount:") || strings.Count(v, ":") < 3 || strings.HasPrefix(v, "system:serviceaccount:*") {
									sev = High
								}
								add(WildcardSubject, sev, fmt.Sprintf("statement %d admits sub %s (%s): every matching ServiceAccount can take the role", i, v, op))
							}
						}
					}
					if !strings.Contains(op, "Not") {
						subs = append(subs, values...)
					}
				case strings.EqualFold(key, provider.HostPath+":aud"):
					hasAud = true
				}
			}
		}
		if !hasSub {
			add(MissingSubject, High, fmt.Sprintf("statement %d has no %s:sub condition: every ServiceAccount of the cluster can take the role", i, provider.HostPath))
		}
		if !hasAud {
			add(MissingAudience, Medium, fmt.Sprintf("statement %d has no %s:aud condition: tokens minted for any audience are accepted", i, provider.HostPath))
		}
		for _, s := range subs {
			ns, name, ok := splitSubject(s)
			if !ok || trust.HasWildcard(s) || !inScope(ns) {
				continue
			}
			if !existingSAs[ns+"/"+name] {
				add(DanglingSubject, Medium, fmt.Sprintf("the trust admits %s, which does not exist: whoever creates it first gets the role", s))
			}
		}
	}
	for _, n := range r.Trust.NegatedSubjects(provider) {
		add(NegatedSubject, High, fmt.Sprintf("statement %d admits every ServiceAccount of the cluster except %s (%s on sub)", n.Index, strings.Join(n.Values, ", "), n.Operator))
	}
	if r.Trust.TrustsPodIdentity() {
		if ev := r.Trust.EvaluatePodIdentity(trust.PodIdentityRequest{}); slices.Contains(ev.Missing, trust.ActionTagSession) {
			add(PodIdentityNoTagSession, Medium, "the role is trusted by "+trust.ServicePodIdentity+" without sts:TagSession: EKS refuses Pod Identity associations to it and sessions cannot carry their tags")
		}
	}
	if len(providers) > 1 && namesUs {
		var list []string
		for p := range providers {
			list = append(list, p)
		}
		slices.Sort(list)
		add(MultiClusterTrust, Low, fmt.Sprintf("the role is trusted by %d clusters' OIDC providers", len(providers)), list...)
	}
	if len(r.UsedBy) > 0 {
		users := strings.Join(r.UsedBy, ", ")
		for _, name := range r.AttachedNames {
			if slices.Contains(trust.AdminManagedPolicies, name) {
				add(AdminPermissions, High, "the role has "+name+" and is used by "+users)
			}
		}
		for _, p := range r.Policies {
			doc, err := trust.Parse(p)
			if err != nil {
				continue
			}
			for _, g := range doc.AdminGrants() {
				add(AdminPermissions, High, "the role's "+g.String()+", administrator-equivalent, and is used by "+users)
			}
		}
	}
	for i := range out {
		if out[i].Fix == "" {
			out[i].Fix = auditFix(out[i].ID, r)
		}
	}
	return Merge(out)
}

func auditFix(id string, r AuditRole) string {
	switch id {
	case WildcardSubject, MissingSubject, MissingAudience, NegatedSubject:
		return "replace the statement with exact StringEquals on sub and aud: kubectl irsa link SA -n NS --role-arn " + r.ARN + " for each ServiceAccount, then remove the broad statement"
	case DanglingSubject:
		return "remove the subject (kubectl irsa unlink) or create the ServiceAccount on purpose"
	case ForeignPrincipal:
		return "kubectl irsa link SA -n NS --role-arn " + r.ARN + " adds a statement with the provider ARN; then remove the broken one"
	case PodIdentityNoTagSession:
		return `add "sts:TagSession" next to "sts:AssumeRole" in the statement for ` + trust.ServicePodIdentity
	case AdminPermissions:
		return "grant only the actions the workload needs (kubectl irsa link --allow service:Action) and detach the broad policy"
	}
	return ""
}

func splitSubject(s string) (ns, name string, ok bool) {
	rest, found := strings.CutPrefix(s, "system:serviceaccount:")
	if !found {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != ""
}

// TrustNearQuotaPercent is the share of the account's trust policy quota from which audit warns.
const TrustNearQuotaPercent = 80

// TrustQuotaRule warns when the role's trust uses TrustNearQuotaPercent or more of quota (characters without
// whitespace, as IAM counts them): the next ServiceAccount or cluster may not fit. quotaFrom says where the quota
// comes from. It returns nil below the threshold or without a trust.
func TrustQuotaRule(r AuditRole, quota int, quotaFrom string) *Finding {
	if r.Trust == nil || quota <= 0 {
		return nil
	}
	size := r.Trust.Size()
	if size*100 < quota*TrustNearQuotaPercent {
		return nil
	}
	return &Finding{ID: TrustNearQuota, Severity: Medium, Check: "iam", Target: "role/" + r.Name,
		Summary: fmt.Sprintf("the trust policy is %d of %d characters (%d%% of %s): the next ServiceAccount or cluster may not fit", size, quota, size*100/quota, quotaFrom),
		Fix:     fmt.Sprintf("kubectl irsa trust budget %s shows what fits; request a quota increase (Service Quotas, IAM \"Role trust policy length\"), move ServiceAccounts to EKS Pod Identity (kubectl irsa migrate), or split the role", r.Name)}
}
