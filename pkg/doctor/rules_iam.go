package doctor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// iamRules: RoleMissing, TrustMismatch, NoOIDCProvider, BadAudience, PermissionMissing.
func iamRules(c Cluster, s Subject) []Finding {
	arn := annotatedRole(s.SA)
	if _, ok := c.Associations[s.SA.Namespace+"/"+s.SA.Name]; ok {
		return nil // Pod Identity takes precedence: the annotation's role is not used (PodIdentityOverrides says so)
	}
	if s.Role == nil || arn == "" || validRoleARN(s.SA.Annotations[iamref.RoleARNAnnotation]) != nil {
		return nil
	}
	r := s.Role
	roleTarget := "role/" + r.Name
	var out []Finding
	if r.Err != "" {
		return []Finding{{ID: RoleMissing, Severity: Warning, Check: "iam", Target: roleTarget,
			Summary: "cannot read role " + r.Name + ": " + r.Err, Fix: "check the AWS credentials can call iam:GetRole"}}
	}
	if !r.Found {
		return []Finding{{ID: RoleMissing, Severity: Error, Check: "iam", Target: roleTarget,
			Summary: fmt.Sprintf("role %s does not exist in account %s", r.Name, r.Account),
			Fix:     linkCommand(s, r.Name)}}
	}
	provider := trust.NewProvider(partitionOf(r.ARN), r.Account, c.Issuer)
	if s.Provider != nil && s.Provider.Err == "" && !s.Provider.Found {
		out = append(out, Finding{ID: NoOIDCProvider, Severity: Error, Check: "iam", Target: "oidc-provider/" + provider.HostPath,
			Summary: fmt.Sprintf("no IAM OIDC provider for %s in account %s: STS cannot verify any token of this cluster", c.Issuer, r.Account),
			Fix:     "kubectl irsa provider create"})
	}
	aud := audience(s.SA)
	if s.Provider != nil && s.Provider.Found && !slices.Contains(s.Provider.ClientIDs, aud) {
		out = append(out, Finding{ID: BadAudience, Severity: Error, Check: "iam", Target: "oidc-provider/" + provider.HostPath,
			Summary:  fmt.Sprintf("the token's audience %q is not a client ID of the OIDC provider", aud),
			Evidence: []string{"client IDs: " + strings.Join(s.Provider.ClientIDs, ", ")},
			Fix:      fmt.Sprintf("aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn %s --client-id %s", provider.ARN, aud)})
	}
	out = append(out, trustRules(c, s, provider, aud, roleTarget)...)
	out = append(out, permissionRules(s, roleTarget)...)
	return out
}

func partitionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 3)
	if len(parts) >= 2 && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}

// trustRules evaluates the trust policy against the ServiceAccount's real claims and lints it.
func trustRules(c Cluster, s Subject, provider trust.Provider, aud, roleTarget string) []Finding {
	r := s.Role
	if r.Trust == nil {
		return nil
	}
	subject := trust.Subject(s.SA.Namespace, s.SA.Name)
	ev := r.Trust.Evaluate(trust.Claims{ProviderARN: provider.ARN, HostPath: provider.HostPath, Subject: subject, Audience: aud})
	var lint []string
	for _, sr := range ev.Statements {
		st, _ := trust.ParseStatement(r.Trust.Statements[sr.Index])
		for _, fed := range st.Principal.Federated {
			if strings.HasPrefix(fed, "https://") || (fed == provider.HostPath) {
				lint = append(lint, fmt.Sprintf("statement %d names the issuer URL %q as Federated principal; IAM wants the provider ARN %s", sr.Index, fed, provider.ARN))
			}
		}
		for op, keys := range st.Condition {
			for key, values := range keys {
				base := strings.TrimSuffix(op, "IfExists")
				if (base == "StringEquals" || strings.HasSuffix(base, ":StringEquals")) && slices.ContainsFunc(values, trust.HasWildcard) {
					lint = append(lint, fmt.Sprintf("statement %d uses a wildcard under %s (%s = %v): StringEquals compares literally, use StringLike", sr.Index, op, key, values))
				}
				if !strings.EqualFold(key, provider.HostPath+":sub") && !strings.EqualFold(key, provider.HostPath+":aud") && looksLikeOIDCKey(key) {
					lint = append(lint, fmt.Sprintf("statement %d has condition key %q; this cluster's keys are %s:sub and %s:aud", sr.Index, key, provider.HostPath, provider.HostPath))
				}
			}
		}
	}
	if ev.Verdict != trust.Refuses {
		var out []Finding
		if ev.Verdict == trust.CannotTell {
			out = append(out, undecidedTrust(r.Name, s.SA, ev))
		}
		if len(lint) > 0 {
			out = append(out, Finding{ID: TrustMismatch, Severity: Warning, Check: "iam", Target: roleTarget,
				Summary: "the trust policy admits this ServiceAccount but has statements that look wrong", Evidence: lint})
		}
		return out
	}
	evidence := []string{fmt.Sprintf("pod presents iss=%s sub=%s aud=%s", provider.HostPath, subject, aud)}
	if expected := r.Trust.Subjects(provider); len(expected) > 0 {
		evidence = append(evidence, "trust expects sub "+strings.Join(expected, " or "))
	}
	for _, sr := range ev.Statements {
		for _, cr := range sr.Conditions {
			if !cr.Pass && !cr.Unknown {
				evidence = append(evidence, fmt.Sprintf("statement %d: %s %s expects %v, token has %q", sr.Index, cr.Operator, cr.Key, cr.Expected, cr.Actual))
			}
		}
		if !sr.PrincipalMatch {
			evidence = append(evidence, fmt.Sprintf("statement %d does not name principal %s", sr.Index, provider.ARN))
		}
	}
	evidence = append(evidence, lint...)
	return []Finding{{ID: TrustMismatch, Severity: Error, Check: "iam", Target: roleTarget,
		Summary:  fmt.Sprintf("role %s's trust policy does not admit %s", r.Name, subject),
		Evidence: evidence,
		Fix:      linkCommand(Subject{SA: s.SA}, r.ARN)}}
}

var oidcKey = regexp.MustCompile(`(?i)^(oidc\.|[a-z0-9.-]+\.[a-z]{2,}/).*:(sub|aud|subject|audience)$|:(sub|aud)$`)

func looksLikeOIDCKey(key string) bool {
	return !strings.HasPrefix(key, "aws:") && !strings.HasPrefix(key, "sts:") && oidcKey.MatchString(key)
}

// permissionRules checks the actions seen denied in logs against the role's identity policies.
func permissionRules(s Subject, roleTarget string) []Finding {
	r := s.Role
	var out []Finding
	for _, action := range DeniedActions(s.Logs) {
		allowed, how := false, ""
		if decision, ok := r.Simulated[action]; ok {
			allowed, how = decision, "decided by iam:SimulatePrincipalPolicy"
		} else {
			allowed = PoliciesAllow(r.Policies, action)
			how = fmt.Sprintf("decided by local evaluation of the role's %d identity policies (resource-level conditions not evaluated)", len(r.Policies))
		}
		if allowed {
			continue
		}
		out = append(out, Finding{ID: PermissionMissing, Severity: Error, Check: "iam", Target: roleTarget,
			Summary:  fmt.Sprintf("role %s does not allow %s", r.Name, action),
			Evidence: []string{how},
			Fix:      fmt.Sprintf("kubectl irsa link %s -n %s --role-arn %s --allow %s", s.SA.Name, s.SA.Namespace, r.ARN, action)})
	}
	return out
}

// PoliciesAllow evaluates identity policies for an action on any resource: some Allow statement's Action (or
// NotAction) covers it and no Deny statement does.
func PoliciesAllow(policies []string, action string) bool {
	allowed := false
	for _, p := range policies {
		doc, err := trust.Parse(p)
		if err != nil {
			continue
		}
		for _, raw := range doc.Statements {
			st, err := trust.ParseStatement(raw)
			if err != nil {
				continue
			}
			covers := slices.ContainsFunc(st.Action, func(a string) bool { return trust.WildcardMatch(a, action, true) })
			if len(st.NotAction) > 0 {
				covers = !slices.ContainsFunc(st.NotAction, func(a string) bool { return trust.WildcardMatch(a, action, true) })
			}
			if !covers {
				continue
			}
			if st.Effect == "Deny" && len(st.Condition) == 0 {
				return false
			}
			if st.Effect == "Allow" {
				allowed = true
			}
		}
	}
	return allowed
}
