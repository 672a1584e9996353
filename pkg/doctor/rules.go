package doctor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
)

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
	} else if _, associated := c.Associations[sa.Namespace+"/"+sa.Name]; !associated && !c.AssociationsUnread && !slices.ContainsFunc(out, func(f Finding) bool { return f.ID == AnnotationMalformed }) {
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

// validRoleARN checks an annotation's role ARN as STS reads it: no surrounding whitespace, and IAM's syntax
// (partition, account, path characters, name), by the one ARN parser.
func validRoleARN(s string) error {
	if s != strings.TrimSpace(s) {
		return fmt.Errorf("it has leading or trailing whitespace")
	}
	_, err := iamref.ParseRole(s)
	return err
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
				Summary:  fmt.Sprintf("container %s sets static credentials (%s), which win over web identity in every AWS SDK", ctr.Name, strings.Join(static, ", ")),
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
