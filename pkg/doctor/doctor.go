// Package doctor holds the rules of `kubectl irsa doctor`: from a snapshot of live state (ServiceAccount, pods,
// IAM role, OIDC provider, cluster) and classified log lines, it says what is wrong and the command that fixes
// it. It does no IO: the snapshot is gathered elsewhere, so every rule is a table test.
package doctor

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// Severity of a finding (report.Severity: the log-only path shares it).
type Severity = report.Severity

// Severities.
const (
	Error   = report.Error
	Warning = report.Warning
	Info    = report.Info
)

// Finding ids of the live checks (log finding ids are logclass.ID values). They are a public contract.
const (
	NotAnnotated         = "NotAnnotated"
	AnnotationMalformed  = "AnnotationMalformed"
	WrongServiceAccount  = "WrongServiceAccount"
	PodNotInjected       = "PodNotInjected"
	RoleMismatch         = "RoleMismatch"
	StaticCredentials    = "StaticCredentials"
	WebhookMissing       = "WebhookMissing"
	TokenUnreadable      = "TokenUnreadable"
	HostNetwork          = "HostNetwork"
	BadAudience          = "BadAudience"
	RoleMissing          = "RoleMissing"
	TrustMismatch        = "TrustMismatch"
	NoOIDCProvider       = "NoOIDCProvider"
	PermissionMissing    = "PermissionMissing"
	PodIdentityOverrides = "PodIdentityOverrides"
	OldSDK               = "OldSDK"
	NodeRoleFallback     = "NodeRoleFallback"
)

// Finding is one diagnosed problem.
type Finding = report.Finding

// Cluster is cluster-wide state.
type Cluster struct {
	// Issuer is the cluster's OIDC issuer URL.
	Issuer string
	// WebhookInstalled: a pod identity webhook MutatingWebhookConfiguration exists (nil: not known).
	WebhookInstalled *bool
	// PodIdentity names ServiceAccounts (NS/NAME) with an EKS Pod Identity association (nil: not known).
	PodIdentity map[string]bool
	// Associations are the EKS Pod Identity associations by NS/NAME, with their roles (nil: not known).
	Associations map[string]Association
	// AssociationsUnread: reading the associations failed (could-not-check), so a ServiceAccount without an
	// annotation may still get credentials from Pod Identity: it is not judged NotAnnotated.
	AssociationsUnread bool
	// AgentInstalled: the eks-pod-identity-agent add-on or DaemonSet exists (nil: not known).
	AgentInstalled *bool
}

// ServiceAccount is a ServiceAccount as read (Exists false when it is missing).
type ServiceAccount struct {
	Namespace, Name string
	Exists          bool
	Annotations     map[string]string
}

// Pod is a pod as read, with the workload that owns it (deployment/NAME, ...) when known.
type Pod struct {
	Namespace, Name string
	Annotations     map[string]string
	Spec            corev1.PodSpec
	Owner           string
	Labels          map[string]string
	// Created is the pod's creation time (zero: unknown).
	Created time.Time
}

// Role is the IAM role the annotation names, as read from IAM.
type Role struct {
	ARN, Name, Account string
	// Found is false when IAM says NoSuchEntity; Err holds any other lookup error.
	Found bool
	Err   string
	Trust *trust.Document
	// Policies are the role's identity policy documents (inline and attached managed default versions).
	Policies []string
	// Simulated holds iam:SimulatePrincipalPolicy decisions by action, when that API answered.
	Simulated map[string]bool
}

// Provider is the IAM OIDC provider for the cluster's issuer in the role's account.
type Provider struct {
	ARN       string
	Found     bool
	Err       string
	ClientIDs []string
}

// Subject is one ServiceAccount under diagnosis: its pods, role, provider, and what its logs said.
type Subject struct {
	SA   ServiceAccount
	Pods []Pod
	// AnnotatedInNamespace lists the names of the namespace's ServiceAccounts that carry a role annotation.
	AnnotatedInNamespace []string
	Role                 *Role
	Provider             *Provider
	// PodIdentityRole is the role of the ServiceAccount's EKS Pod Identity association, as read from IAM.
	PodIdentityRole *Role
	// PodIdentityTargetRole is the association's target role (role chaining, often in another account), as read
	// from IAM; nil when there is none or it was not read.
	PodIdentityTargetRole *Role
	Logs                  []logclass.Finding
}

func saTarget(sa ServiceAccount) string { return "serviceaccount/" + sa.Namespace + "/" + sa.Name }
func podTarget(p Pod) string            { return "pod/" + p.Namespace + "/" + p.Name }

// Diagnose runs every rule on one subject and returns the findings, errors first.
func Diagnose(c Cluster, s Subject) []Finding {
	var out []Finding
	out = append(out, logRules(c, s)...)
	out = append(out, serviceAccountRules(c, s)...)
	for _, p := range s.Pods {
		out = append(out, podRules(c, s, p)...)
	}
	out = append(out, iamRules(c, s)...)
	out = append(out, podIdentityRules(c, s)...)
	out = append(out, migrationRules(s)...)
	return Merge(out)
}

// Merge joins findings with the same id and target and sorts them, errors first (report.Merge).
func Merge(fs []Finding) []Finding { return report.Merge(fs) }

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool { return report.HasErrors(fs) }

// annotatedRole returns the annotation's role ARN, trimmed.
func annotatedRole(sa ServiceAccount) string {
	return strings.TrimSpace(sa.Annotations[iamref.RoleARNAnnotation])
}

// audience returns the audience the webhook requests for the SA's token.
func audience(sa ServiceAccount) string { return iamref.Audience(sa.Annotations) }

// DeniedActions lists the actions logs show denied (other than the web identity exchange itself), in order,
// without duplicates.
func DeniedActions(logs []logclass.Finding) []string {
	var out []string
	for _, f := range logs {
		if f.Action != "" && !strings.EqualFold(f.Action, trust.ActionAssumeRoleWithWebIdentity) && !slices.Contains(out, f.Action) {
			out = append(out, f.Action)
		}
	}
	return out
}

// linkCommand is the fix that wires a ServiceAccount to a role, with the actions seen denied.
func linkCommand(s Subject, role string) string {
	cmd := fmt.Sprintf("kubectl irsa link %s -n %s", s.SA.Name, s.SA.Namespace)
	switch {
	case strings.HasPrefix(role, "arn:"):
		cmd += " --role-arn " + role
	case role != "":
		cmd += " --role-name " + role
	}
	if acts := DeniedActions(s.Logs); len(acts) > 0 {
		cmd += " --allow " + strings.Join(acts, ",")
	}
	return cmd
}

// restartCommand restarts the owner of a pod, or deletes a bare pod.
func restartCommand(p Pod) string {
	if p.Owner != "" && !strings.HasPrefix(p.Owner, "job/") {
		return fmt.Sprintf("kubectl rollout restart %s -n %s", p.Owner, p.Namespace)
	}
	return fmt.Sprintf("kubectl delete pod %s -n %s  # and create it again", p.Name, p.Namespace)
}

// PromoteNodeRoles turns a PermissionMissing log finding whose caller role is a known node role (from aws-auth
// or EKS access entries) into NodeRoleFallback: the pod did not use IRSA at all.
func PromoteNodeRoles(logs []logclass.Finding, nodeRoles map[string]bool) []logclass.Finding {
	out := slices.Clone(logs)
	for i, f := range out {
		if f.ID == logclass.PermissionMissing && f.Role != "" && nodeRoles[f.Role] {
			out[i].ID = logclass.NodeRoleFallback
			out[i].Confidence = "high"
			out[i].Reason = fmt.Sprintf("role %s is mapped to system:nodes in this cluster (aws-auth or EKS access entry)", f.Role)
		}
	}
	return out
}
