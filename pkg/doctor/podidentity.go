package doctor

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// Finding ids of the EKS Pod Identity live checks. They are a public contract.
const (
	PodIdentityAgentMissing       = "PodIdentityAgentMissing"
	PodIdentityTrustInvalid       = "PodIdentityTrustInvalid"
	PodIdentityRoleMissing        = "PodIdentityRoleMissing"
	PodIdentityTargetRoleMissing  = "PodIdentityTargetRoleMissing"
	PodIdentityNotInjected        = "PodIdentityNotInjected"
	PodIdentityUnsupportedCompute = "PodIdentityUnsupportedCompute"
	PodIdentityProxy              = "PodIdentityProxy"
	BothMechanisms                = "BothMechanisms"
	PodIdentityOldSDK             = string(logclass.PodIdentityOldSDK)
)

// What the EKS Pod Identity webhook injects, and where the agent listens.
const (
	PodIdentityURIEnv   = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	PodIdentityTokenEnv = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
	PodIdentityAgentIP  = "169.254.170.23"
	PodIdentityAgentIP6 = "fd00:ec2::23"
)

// Association is an EKS Pod Identity association as read.
type Association struct {
	ID, RoleARN        string
	TargetRoleARN      string
	DisableSessionTags bool
	// Created is when the association was made (zero: unknown).
	Created time.Time
}

// podIdentityRules: PodIdentityAgentMissing, PodIdentityRoleMissing, PodIdentityTargetRoleMissing,
// PodIdentityTrustInvalid, and per pod
// PodIdentityNotInjected, PodIdentityUnsupportedCompute, PodIdentityProxy, PodIdentityOldSDK, BothMechanisms.
func podIdentityRules(c Cluster, s Subject) []Finding {
	a, ok := c.Associations[s.SA.Namespace+"/"+s.SA.Name]
	if !ok {
		return nil
	}
	var out []Finding
	if c.AgentInstalled != nil && !*c.AgentInstalled {
		out = append(out, Finding{ID: PodIdentityAgentMissing, Severity: Error, Check: "cluster", Target: "cluster",
			Summary:  "the EKS Pod Identity Agent is not installed (no eks-pod-identity-agent add-on, no DaemonSet in kube-system): nothing serves " + PodIdentityAgentIP,
			Evidence: []string{"ServiceAccounts with Pod Identity associations get no credentials in their pods"},
			Fix:      "aws eks create-addon --cluster-name CLUSTER --addon-name eks-pod-identity-agent"})
	}
	out = append(out, podIdentityRoleRules(s, a)...)
	for _, p := range s.Pods {
		out = append(out, podIdentityPodRules(s, a, p)...)
	}
	return out
}

func podIdentityRoleRules(s Subject, a Association) []Finding {
	r := s.PodIdentityRole
	if r == nil {
		return nil
	}
	target := "role/" + r.Name
	if !r.Found {
		return []Finding{{ID: PodIdentityRoleMissing, Severity: Error, Check: "iam", Target: target,
			Summary:  fmt.Sprintf("Pod Identity association %s names role %s, which does not exist", a.ID, a.RoleARN),
			Evidence: []string{fmt.Sprintf("serviceaccount %s/%s", s.SA.Namespace, s.SA.Name)},
			Fix:      fmt.Sprintf("kubectl irsa link %s -n %s --pod-identity --role-name %s", s.SA.Name, s.SA.Namespace, r.Name)}}
	}
	// A missing target role and a trust that refuses EKS Pod Identity are two problems: both are reported.
	var out []Finding
	if t := s.PodIdentityTargetRole; a.TargetRoleARN != "" && t != nil && !t.Found {
		out = append(out, Finding{ID: PodIdentityTargetRoleMissing, Severity: Error, Check: "iam", Target: "role/" + t.Name,
			Summary:  targetRoleMissingSummary(a.ID, r.Name, a.TargetRoleARN, t.Account),
			Evidence: []string{fmt.Sprintf("serviceaccount %s/%s", s.SA.Namespace, s.SA.Name)},
			Fix:      targetRoleMissingFix(t.Name, t.Account, a.RoleARN, s.SA.Namespace, s.SA.Name)})
	}
	if r.Trust == nil {
		return out
	}
	ev := r.Trust.EvaluatePodIdentity(trust.PodIdentityRequest{Context: trust.PodIdentitySessionTags("", "", s.SA.Namespace, s.SA.Name)})
	switch ev.Verdict {
	case trust.Refuses:
		out = append(out, Finding{ID: PodIdentityTrustInvalid, Severity: Error, Check: "iam", Target: target,
			Summary:  fmt.Sprintf("the trust policy of role %s does not let %s call %s: EKS Auth refuses AssumeRoleForPodIdentity", r.Name, trust.ServicePodIdentity, strings.Join(ev.Missing, " and ")),
			Evidence: []string{"association " + a.ID + " of serviceaccount " + s.SA.Namespace + "/" + s.SA.Name},
			Fix:      fmt.Sprintf("kubectl irsa link %s -n %s --pod-identity --role-name %s", s.SA.Name, s.SA.Namespace, r.Name)})
	case trust.CannotTell:
		out = append(out, Finding{ID: PodIdentityTrustInvalid, Severity: Warning, Check: "iam", Target: target,
			Summary:  fmt.Sprintf("the trust policy of role %s admits %s only under conditions that cannot be checked here", r.Name, trust.ServicePodIdentity),
			Evidence: []string{"condition keys not known before the call: " + strings.Join(ev.UnknownKeys, ", ")}})
	}
	return out
}

func podIdentityPodRules(s Subject, a Association, p Pod) []Finding {
	target := podTarget(p)
	var out []Finding
	if why := unsupportedCompute(p); why != "" {
		out = append(out, Finding{ID: PodIdentityUnsupportedCompute, Severity: Error, Check: "pod", Target: target,
			Summary: "EKS Pod Identity does not work on " + why + ": the pod gets no credentials from the association",
			Fix:     fmt.Sprintf("use IRSA for this ServiceAccount: kubectl irsa link %s -n %s --role-arn %s", s.SA.Name, s.SA.Namespace, a.RoleARN)})
	}
	skipped := strings.Split(p.Annotations[iamref.SkipContainersAnnotation], ",")
	irsa := annotatedRole(s.SA) != ""
	for _, ctr := range p.Spec.Containers {
		if slices.Contains(skipped, ctr.Name) {
			continue
		}
		env := envNames(ctr)
		injected := slices.Contains(env, PodIdentityURIEnv) && slices.Contains(env, PodIdentityTokenEnv)
		if !injected {
			f := Finding{ID: PodIdentityNotInjected, Severity: Error, Check: "pod", Target: target,
				Summary:  fmt.Sprintf("container %s has no %s: the pod started before the Pod Identity association, or the webhook did not mutate it", ctr.Name, PodIdentityURIEnv),
				Evidence: []string{"serviceaccount " + s.SA.Name + " has Pod Identity association " + a.ID + " to " + a.RoleARN},
				Fix:      restartCommand(p)}
			if !a.Created.IsZero() && !p.Created.IsZero() && p.Created.Before(a.Created) {
				f.Evidence = append(f.Evidence, fmt.Sprintf("pod created %s, association created %s", p.Created.UTC().Format(time.RFC3339), a.Created.UTC().Format(time.RFC3339)))
			}
			out = append(out, f)
		}
		if irsa {
			uses := "IRSA (web identity): it started before the Pod Identity association and keeps IRSA until restarted"
			if injected {
				uses = "EKS Pod Identity: the webhook injects the container credentials endpoint instead of IRSA, and every SDK's chain tries it before web identity"
			}
			out = append(out, Finding{ID: BothMechanisms, Severity: Info, Check: "pod", Target: target,
				Summary:  fmt.Sprintf("serviceaccount %s has both an IRSA annotation and a Pod Identity association; container %s uses %s", s.SA.Name, ctr.Name, uses),
				Evidence: []string{"annotation: " + annotatedRole(s.SA), "association " + a.ID + ": " + a.RoleARN}})
		}
		if injected {
			if proxy := proxyWithoutAgent(ctr); proxy != "" {
				out = append(out, Finding{ID: PodIdentityProxy, Severity: Error, Check: "pod", Target: target,
					Summary: fmt.Sprintf("container %s sets %s but NO_PROXY does not cover %s: the SDK sends credential requests to the proxy", ctr.Name, proxy, PodIdentityAgentIP),
					Fix:     "add " + PodIdentityAgentIP + "," + PodIdentityAgentIP6 + " to NO_PROXY (and no_proxy) in the pod template"})
			}
		}
		if v, ok := OldPodIdentitySDKInImage(ctr.Image); ok {
			out = append(out, Finding{ID: PodIdentityOldSDK, Severity: Error, Check: "pod", Target: target,
				Summary: fmt.Sprintf("container %s uses %s, older than the first release with EKS Pod Identity support", ctr.Name, v),
				Fix:     "upgrade the AWS CLI in the image, or use IRSA for this ServiceAccount"})
		}
	}
	for _, l := range s.Logs {
		if v, ok := OldPodIdentitySDKInLog(l.Excerpt); ok {
			out = append(out, Finding{ID: PodIdentityOldSDK, Severity: Error, Check: "logs", Target: target,
				Summary: v, Evidence: []string{l.Excerpt}, Fix: "upgrade the AWS SDK, or use IRSA for this ServiceAccount"})
		}
	}
	return out
}

// unsupportedCompute names what the pod runs on when EKS Pod Identity does not support it ("" otherwise).
func unsupportedCompute(p Pod) string {
	switch {
	case p.Spec.SchedulerName == "fargate-scheduler" || p.Labels["eks.amazonaws.com/fargate-profile"] != "" || strings.HasPrefix(p.Spec.NodeName, "fargate-"):
		return "Fargate"
	case p.Spec.NodeSelector[corev1.LabelOSStable] == "windows" || p.Spec.OS != nil && p.Spec.OS.Name == corev1.Windows:
		return "Windows nodes"
	}
	return ""
}

// proxyWithoutAgent returns the proxy variable that would carry the agent's traffic ("" when none does).
func proxyWithoutAgent(ctr corev1.Container) string {
	var proxy string
	var noProxy []string
	for _, e := range ctr.Env {
		switch strings.ToUpper(e.Name) {
		case "HTTP_PROXY", "HTTPS_PROXY": // AWS asks for NO_PROXY whenever a proxy is configured
			if (e.Value != "" || e.ValueFrom != nil) && proxy == "" {
				proxy = e.Name
			}
		case "NO_PROXY":
			noProxy = append(noProxy, e.Value)
		}
	}
	if proxy == "" {
		return ""
	}
	for _, list := range noProxy {
		if NoProxyCovers(list, PodIdentityAgentIP) {
			return ""
		}
	}
	return proxy
}

// NoProxyCovers reports whether a NO_PROXY list covers an IP address: "*", the address, or a CIDR holding it.
func NoProxyCovers(list, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "*" || item == ip {
			return true
		}
		if pfx, err := netip.ParsePrefix(item); err == nil && pfx.Contains(addr) {
			return true
		}
	}
	return false
}

// minimumPodIdentitySDK is the first release of each SDK with EKS Pod Identity support (AWS EKS user guide).
var minimumPodIdentitySDK = []struct {
	name    string
	product *regexp.Regexp
	minimum string
}{
	{"AWS SDK for Java v2", regexp.MustCompile(`(?i)\baws-sdk-java/(2\.[0-9.]+)`), "2.21.30"},
	{"AWS SDK for Java v1", regexp.MustCompile(`(?i)\baws-sdk-java/(1\.[0-9.]+)`), "1.12.746"},
	// aws-sdk-go-v2's user agent carries the core module's version: 1.23.0 shipped 2023-11-15, the day after
	// the release that added Pod Identity; core versions before 1.22.2 (2023-11-09) certainly predate it.
	{"AWS SDK for Go v2", regexp.MustCompile(`(?i)\baws-sdk-go-v2/(1\.[0-9.]+)`), "1.22.2"},
	{"AWS SDK for Go v1", regexp.MustCompile(`(?i)\baws-sdk-go/(1\.[0-9.]+)`), "1.47.11"},
	{"boto3", regexp.MustCompile(`(?i)\bboto3/([0-9][0-9.]+)`), "1.34.41"},
	{"botocore", regexp.MustCompile(`(?i)\bbotocore/([0-9][0-9.]+)`), "1.34.41"},
	{"AWS CLI v2", regexp.MustCompile(`(?i)\baws-cli/(2\.[0-9.]+)`), "2.15.0"},
	{"AWS CLI v1", regexp.MustCompile(`(?i)\baws-cli/(1\.[0-9.]+)`), "1.30.0"},
	{"AWS SDK for JavaScript v2", regexp.MustCompile(`(?i)\baws-sdk-(?:nodejs|js)/(2\.[0-9.]+)`), "2.1550.0"},
	{"AWS SDK for JavaScript v3", regexp.MustCompile(`(?i)\baws-sdk-js/(3\.[0-9.]+)`), "3.458.0"},
	{"AWS SDK for Ruby", regexp.MustCompile(`(?i)\baws-sdk-ruby3?/(3\.[0-9.]+)`), "3.188.0"},
	{"AWS SDK for .NET", regexp.MustCompile(`(?i)\baws-sdk-dotnet-(?:core|[a-z0-9]+)/(3\.[0-9.]+)`), "3.7.734.0"},
	{"AWS SDK for PHP", regexp.MustCompile(`(?i)\baws-sdk-php/(3\.[0-9.]+)`), "3.287.1"},
}

// maxVersionLength bounds a version echoed from a log line: a hostile line may carry "1.2.1.1.1..." for kilobytes.
const maxVersionLength = 32

// shortVersion keeps the first n dot-separated components of a version found in a log (n is the minimum's
// count, 3 or 4), at most maxVersionLength characters, without a trailing dot: what is compared and echoed.
func shortVersion(v string, n int) string {
	parts := strings.SplitN(strings.Trim(v, "."), ".", n+1)
	v = strings.Join(parts[:min(n, len(parts))], ".")
	if len(v) > maxVersionLength {
		v = strings.TrimRight(v[:maxVersionLength], ".")
	}
	return v
}

// OldPodIdentitySDKInLog finds an SDK version below its EKS Pod Identity minimum in a log line. The version is
// echoed as its first components (as many as the minimum has), at most 32 characters.
func OldPodIdentitySDKInLog(line string) (string, bool) {
	for _, sdk := range minimumPodIdentitySDK {
		m := sdk.product.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if v := shortVersion(m[1], strings.Count(sdk.minimum, ".")+1); versionLess(v, sdk.minimum) {
			return fmt.Sprintf("%s %s is older than the first release with EKS Pod Identity support (%s)", sdk.name, v, sdk.minimum), true
		}
	}
	return "", false
}

// OldPodIdentitySDKInImage finds an AWS CLI image tag below the CLI's EKS Pod Identity minimum.
func OldPodIdentitySDKInImage(image string) (string, bool) {
	m := cliImage.FindStringSubmatch(image)
	if m == nil {
		return "", false
	}
	minimum := "2.15.0"
	if strings.HasPrefix(m[1], "1.") {
		minimum = "1.30.0"
	}
	if versionLess(m[1], minimum) {
		return fmt.Sprintf("AWS CLI %s (image %s; EKS Pod Identity needs %s or later)", m[1], image, minimum), true
	}
	return "", false
}
