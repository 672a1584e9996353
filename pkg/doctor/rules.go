package doctor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// LogFindings turns classified log lines into findings on target, one per id, with the lines as evidence.
func LogFindings(logs []logclass.Finding, target string) []Finding {
	var out []Finding
	for _, l := range logs {
		f := Finding{ID: string(l.ID), Severity: logSeverity(l.ID), Check: "logs", Target: target, Summary: logSummary(l)}
		f.Evidence = append(f.Evidence, fmt.Sprintf("log line %d: %s", l.Line, l.Excerpt))
		if l.Count > 1 {
			more := fmt.Sprintf("and %d more lines like it", l.Count-1)
			if len(l.Lines) > 1 {
				more += fmt.Sprintf(" (lines %v", l.Lines[1:])
				if l.Count > len(l.Lines) {
					more += ", ..."
				}
				more += ")"
			}
			f.Evidence = append(f.Evidence, more)
		}
		if l.Reason != "" {
			f.Evidence = append(f.Evidence, l.Reason+" (confidence "+l.Confidence+")")
		}
		if l.SDK != "" {
			f.Evidence = append(f.Evidence, "SDK: "+l.SDK)
		}
		out = append(out, f)
	}
	return Merge(out)
}

func logSeverity(id logclass.ID) Severity {
	if id == logclass.TokenExpired {
		return Warning
	}
	return Error
}

func logSummary(l logclass.Finding) string {
	switch l.ID {
	case logclass.NodeRoleFallback:
		return fmt.Sprintf("the pod used the node's instance role %s, not an IRSA role: the SDK found no web identity and fell back to EC2 instance metadata", l.Role)
	case logclass.PermissionMissing:
		return fmt.Sprintf("role %s was assumed but is not allowed %s", l.Role, l.Action)
	case logclass.TrustRejected:
		return "STS refused AssumeRoleWithWebIdentity: the role's trust policy does not admit this ServiceAccount's token"
	case logclass.NoOIDCProvider:
		return "STS found no IAM OIDC provider for the cluster's issuer in the role's account"
	case logclass.BadAudience:
		return "the token's audience is not a client ID of the IAM OIDC provider"
	case logclass.TokenExpired:
		return "the web identity token or the credentials from it expired"
	case logclass.TokenUnreadable:
		return "the SDK cannot read the projected token file"
	case logclass.NoCredentials:
		return "the SDK found no credentials at all: no web identity environment and no instance role"
	case logclass.InvalidRoleARN:
		return "the role ARN the SDK passed to STS is malformed"
	case logclass.RegionOrEndpoint:
		return "no AWS region, or the STS endpoint cannot be resolved or reached"
	case logclass.Thumbprint:
		return "the IAM OIDC provider's thumbprint does not match the issuer's certificate"
	case logclass.StaticCredentials:
		return fmt.Sprintf("the caller is the IAM user %s: static access keys are used instead of the IRSA role", l.CallerARN)
	case logclass.PodIdentityEndpointUnreachable:
		return "the pod could not reach the EKS Pod Identity Agent (169.254.170.23 / [fd00:ec2::23]) for its credentials"
	case logclass.PodIdentityDenied:
		return "EKS Auth refused AssumeRoleForPodIdentity: the associated role does not trust pods.eks.amazonaws.com (sts:AssumeRole and sts:TagSession), or the node role may not call eks-auth:AssumeRoleForPodIdentity"
	case logclass.PodIdentityOldSDK:
		return "the application's AWS SDK predates EKS Pod Identity and refuses the agent's credentials endpoint"
	}
	return string(l.ID)
}

// logRules: the log findings, with fixes that depend on live state.
func logRules(_ Cluster, s Subject) []Finding {
	out := LogFindings(s.Logs, saTarget(s.SA))
	arn := annotatedRole(s.SA)
	for i := range out {
		switch out[i].ID {
		case string(logclass.NodeRoleFallback), string(logclass.NoCredentials):
			switch {
			case arn == "":
				out[i].Fix = linkCommand(s, "")
			case len(s.Pods) > 0:
				out[i].Fix = restartCommand(s.Pods[0])
			}
		case string(logclass.PermissionMissing):
			out[i].Fix = linkCommand(s, arn)
			if slices.ContainsFunc(out[i].Evidence, policyLimit) {
				out[i].Fix += "; where an SCP, a permissions boundary, a session policy or an explicit deny limits the role, an Allow on the role does not help: change that policy"
			}
		case string(logclass.TrustRejected):
			out[i].Fix = linkCommand(s, arn)
		case string(logclass.NoOIDCProvider):
			out[i].Fix = "kubectl irsa provider create"
		case string(logclass.PodIdentityEndpointUnreachable):
			out[i].Fix = "kubectl get daemonset eks-pod-identity-agent -n kube-system (install it: aws eks create-addon --cluster-name CLUSTER --addon-name eks-pod-identity-agent); with an HTTP(S)_PROXY, add 169.254.170.23 and fd00:ec2::23 to NO_PROXY"
		case string(logclass.PodIdentityDenied):
			out[i].Fix = fmt.Sprintf("aws eks list-pod-identity-associations --cluster-name CLUSTER --namespace %s --service-account %s, then let the role's trust allow the service principal pods.eks.amazonaws.com the actions sts:AssumeRole and sts:TagSession", s.SA.Namespace, s.SA.Name)
		case string(logclass.PodIdentityOldSDK):
			out[i].Fix = "upgrade the application's AWS SDK to one with EKS Pod Identity support (Go v2 2023-11-14, Go v1 1.47.11, Java v2 2.21.30, Java v1 1.12.746, boto3/botocore 1.34.41, CLI 2.15.0 / 1.30.0, JS v3 3.458.0, JS v2 2.1550.0, .NET 3.7.734.0, Ruby 3.188.0, PHP 3.287.1), or use IRSA for this ServiceAccount"
		}
	}
	return out
}

// policyLimit reports whether a log finding's evidence names a policy that
// limits the role beyond its own Allows (SCP, permissions boundary, session
// policy, explicit deny).
func policyLimit(evidence string) bool {
	return strings.Contains(evidence, "explicit deny") || strings.Contains(evidence, "permissions boundary") ||
		strings.Contains(evidence, "session policy")
}

var roleKeyLike = regexp.MustCompile(`(?i)role[-_.]?arn|iam\.amazonaws\.com/role`)

// serviceAccountRules: NotAnnotated, AnnotationMalformed, WrongServiceAccount, PodIdentityOverrides.
func serviceAccountRules(c Cluster, s Subject) []Finding {
	sa := s.SA
	target := saTarget(sa)
	var out []Finding
	if !sa.Exists {
		return append(out, Finding{ID: NotAnnotated, Severity: Error, Check: "serviceaccount", Target: target,
			Summary: fmt.Sprintf("serviceaccount %s/%s does not exist", sa.Namespace, sa.Name),
			Fix:     linkCommand(s, "") + " --create-service-account"})
	}
	for key, value := range sa.Annotations {
		if key != iamref.RoleARNAnnotation && roleKeyLike.MatchString(key) && strings.Contains(value, ":role/") {
			out = append(out, Finding{ID: AnnotationMalformed, Severity: Error, Check: "serviceaccount", Target: target,
				Summary:  fmt.Sprintf("annotation key %q is not %s, so the webhook ignores it", key, iamref.RoleARNAnnotation),
				Evidence: []string{key + ": " + value},
				Fix:      fmt.Sprintf("kubectl irsa annotate %s -n %s --role-arn %s --overwrite && kubectl annotate serviceaccount %s -n %s %s-", sa.Name, sa.Namespace, strings.TrimSpace(value), sa.Name, sa.Namespace, key)})
		}
	}
	raw, annotated := sa.Annotations[iamref.RoleARNAnnotation]
	if annotated {
		if err := validRoleARN(raw); err != nil {
			out = append(out, Finding{ID: AnnotationMalformed, Severity: Error, Check: "serviceaccount", Target: target,
				Summary:  fmt.Sprintf("%s is not a valid role ARN: %v", iamref.RoleARNAnnotation, err),
				Evidence: []string{fmt.Sprintf("%s: %q", iamref.RoleARNAnnotation, raw)},
				Fix:      fmt.Sprintf("kubectl irsa annotate %s -n %s --role-arn arn:aws:iam::ACCOUNT:role/NAME --overwrite", sa.Name, sa.Namespace)})
		}
	} else if _, associated := c.Associations[sa.Namespace+"/"+sa.Name]; !associated && !slices.ContainsFunc(out, func(f Finding) bool { return f.ID == AnnotationMalformed }) {
		f := Finding{ID: NotAnnotated, Severity: Error, Check: "serviceaccount", Target: target,
			Summary: fmt.Sprintf("serviceaccount %s/%s has no %s annotation, so its pods get no IRSA credentials", sa.Namespace, sa.Name, iamref.RoleARNAnnotation),
			Fix:     linkCommand(s, "")}
		if len(s.AnnotatedInNamespace) > 0 {
			f.Evidence = append(f.Evidence, "annotated ServiceAccounts in "+sa.Namespace+": "+strings.Join(s.AnnotatedInNamespace, ", "))
		}
		out = append(out, f)
		if len(s.AnnotatedInNamespace) > 0 && len(s.Pods) > 0 {
			out = append(out, Finding{ID: WrongServiceAccount, Severity: Error, Check: "pod", Target: target,
				Summary:  fmt.Sprintf("pods run as %s, which has no role, while %s in the same namespace has one", sa.Name, strings.Join(s.AnnotatedInNamespace, ", ")),
				Evidence: []string{"pods: " + strings.Join(podNames(s.Pods), ", ")},
				Fix:      fmt.Sprintf("set spec.template.spec.serviceAccountName: %s in the workload, or %s", s.AnnotatedInNamespace[0], linkCommand(s, ""))})
		}
	}
	if a, ok := c.Associations[sa.Namespace+"/"+sa.Name]; ok && annotated && strings.TrimSpace(raw) == a.RoleARN {
		// Both name the same role: informational, said per pod by BothMechanisms.
	} else if c.PodIdentity[sa.Namespace+"/"+sa.Name] && annotated {
		out = append(out, Finding{ID: PodIdentityOverrides, Severity: Warning, Check: "serviceaccount", Target: target,
			Summary: "an EKS Pod Identity association exists for this ServiceAccount: it takes precedence over the IRSA annotation",
			Fix:     fmt.Sprintf("aws eks list-pod-identity-associations --namespace %s --service-account %s, then delete the association or stop using the annotation", sa.Namespace, sa.Name)})
	}
	return out
}

func podNames(pods []Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

var roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@/-]*/)?[\w+=,.@-]{1,64}$`)

func validRoleARN(s string) error {
	if s != strings.TrimSpace(s) {
		return fmt.Errorf("it has leading or trailing whitespace")
	}
	if !roleARNRE.MatchString(s) {
		return fmt.Errorf("want arn:aws:iam::123456789012:role/NAME")
	}
	return nil
}

// Environment variables the webhook injects, and those that carry static credentials.
var (
	staticEnv = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"}
)

// podRules: PodNotInjected, RoleMismatch, StaticCredentials, TokenUnreadable, HostNetwork, WebhookMissing, OldSDK.
func podRules(c Cluster, s Subject, p Pod) []Finding {
	target := podTarget(p)
	var out []Finding
	arn := annotatedRole(s.SA)
	if _, ok := c.Associations[s.SA.Namespace+"/"+s.SA.Name]; ok {
		arn = "" // Pod Identity takes precedence: the webhook injects it instead of IRSA (podIdentityRules judge it)
	}
	skipped := strings.Split(p.Annotations[iamref.SkipContainersAnnotation], ",")
	for _, ctr := range p.Spec.Containers {
		env := envNames(ctr)
		if static := intersect(env, staticEnv); len(static) > 0 {
			out = append(out, Finding{ID: StaticCredentials, Severity: Error, Check: "pod", Target: target,
				Summary:  fmt.Sprintf("container %s sets %s: static credentials win over web identity in every AWS SDK", ctr.Name, strings.Join(static, ", ")),
				Evidence: []string{"environment variable names only; values are not read"},
				Fix:      "remove those variables (or the Secret they come from) from the pod template; IRSA provides credentials"})
		}
		for _, m := range ctr.VolumeMounts {
			if strings.Contains(m.MountPath, "/.aws") {
				out = append(out, Finding{ID: StaticCredentials, Severity: Warning, Check: "pod", Target: target,
					Summary: fmt.Sprintf("container %s mounts %s at %s: an AWS credentials file there wins over web identity", ctr.Name, m.Name, m.MountPath),
					Fix:     "remove the mounted AWS credentials file; IRSA provides credentials"})
			}
		}
		if arn == "" || slices.Contains(skipped, ctr.Name) {
			continue
		}
		injected := slices.Contains(env, "AWS_ROLE_ARN") && slices.Contains(env, "AWS_WEB_IDENTITY_TOKEN_FILE")
		if !injected {
			f := Finding{ID: PodNotInjected, Severity: Error, Check: "pod", Target: target,
				Summary:  fmt.Sprintf("container %s has no AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE: the pod started before the annotation, or the webhook did not mutate it", ctr.Name),
				Evidence: []string{"serviceaccount " + s.SA.Name + " is annotated with " + arn},
				Fix:      restartCommand(p)}
			if c.WebhookInstalled != nil && !*c.WebhookInstalled {
				f.Evidence = append(f.Evidence, "no pod identity webhook is installed in the cluster")
			}
			out = append(out, f)
		} else if v := envValue(ctr, "AWS_ROLE_ARN"); v != "" && v != arn {
			out = append(out, Finding{ID: RoleMismatch, Severity: Error, Check: "pod", Target: target,
				Summary:  fmt.Sprintf("container %s has AWS_ROLE_ARN=%s but the ServiceAccount is annotated with %s", ctr.Name, v, arn),
				Evidence: []string{"the annotation changed after the pod started, or the pod sets AWS_ROLE_ARN itself"},
				Fix:      restartCommand(p)})
		}
		if injected && !hasTokenVolume(p.Spec) {
			out = append(out, Finding{ID: PodNotInjected, Severity: Error, Check: "pod", Target: target,
				Summary: "AWS_WEB_IDENTITY_TOKEN_FILE is set but no projected token volume with audience " + audience(s.SA) + " is mounted",
				Fix:     restartCommand(p)})
		}
		if injected && runsAsNonRoot(p.Spec, ctr) && (p.Spec.SecurityContext == nil || p.Spec.SecurityContext.FSGroup == nil) {
			out = append(out, Finding{ID: TokenUnreadable, Severity: Warning, Check: "pod", Target: target,
				Summary: fmt.Sprintf("container %s runs as a non-root user and the pod sets no fsGroup: it may not be able to read the token file", ctr.Name),
				Fix:     "set spec.securityContext.fsGroup (e.g. 65534) in the pod template"})
		}
		if v, ok := oldSDKInImage(ctr.Image); ok {
			out = append(out, Finding{ID: OldSDK, Severity: Error, Check: "pod", Target: target,
				Summary: fmt.Sprintf("container %s uses %s, older than the first release with web identity support", ctr.Name, v),
				Fix:     "upgrade the AWS SDK or CLI in the image"})
		}
	}
	if arn != "" && p.Spec.HostNetwork {
		out = append(out, Finding{ID: HostNetwork, Severity: Warning, Check: "pod", Target: target,
			Summary:  "the pod uses hostNetwork: it reaches the node's instance metadata, so any IRSA failure falls back to the node role silently",
			Evidence: []string{"a hostNetwork pod shares the node's network namespace: IMDSv2 with a hop limit of 1 rejects only pods that do not use host networking, and NetworkPolicies do not apply to it (AWS, Security Practices for Multi-Tenant SaaS Applications using Amazon EKS)"},
			Fix:      "drop hostNetwork from the pod template; if the pod needs it, keep the node role minimal and forbid hostNetwork to untrusted pods with an admission policy"})
	}
	if arn != "" && c.WebhookInstalled != nil && !*c.WebhookInstalled && slices.ContainsFunc(out, func(f Finding) bool { return f.ID == PodNotInjected }) {
		out = append(out, Finding{ID: WebhookMissing, Severity: Error, Check: "cluster", Target: "cluster",
			Summary: "no pod identity webhook MutatingWebhookConfiguration: nothing injects IRSA credentials into pods",
			Fix:     "on EKS the webhook is managed; elsewhere install amazon-eks-pod-identity-webhook"})
	}
	for _, l := range s.Logs {
		if v, ok := oldSDKInLog(l.Excerpt); ok {
			out = append(out, Finding{ID: OldSDK, Severity: Error, Check: "logs", Target: target,
				Summary: v + " is older than the first release with web identity support", Evidence: []string{l.Excerpt}, Fix: "upgrade the AWS SDK"})
		}
	}
	return out
}

func envNames(c corev1.Container) []string {
	var out []string
	for _, e := range c.Env {
		out = append(out, e.Name)
	}
	return out
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// hasTokenVolume reports whether the pod has a projected ServiceAccount token volume (the webhook's aws-iam-token).
func hasTokenVolume(spec corev1.PodSpec) bool {
	for _, v := range spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil && src.ServiceAccountToken.Audience != "" {
				return true
			}
		}
	}
	return false
}

func runsAsNonRoot(spec corev1.PodSpec, c corev1.Container) bool {
	var uid *int64
	if spec.SecurityContext != nil && spec.SecurityContext.RunAsUser != nil {
		uid = spec.SecurityContext.RunAsUser
	}
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		uid = c.SecurityContext.RunAsUser
	}
	return uid != nil && *uid != 0
}

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
