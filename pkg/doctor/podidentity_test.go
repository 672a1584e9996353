package doctor

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const piRoleARN = "arn:aws:iam::123456789012:role/pi-role"

func piPod(env ...corev1.EnvVar) Pod {
	return Pod{Namespace: "irsa-sample-ns", Name: "app-1", Owner: "deployment/app", Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Spec: corev1.PodSpec{
		ServiceAccountName: "irsa-test",
		Containers: []corev1.Container{{Name: "app", Image: "amazon/aws-cli:2.15.0", Env: append([]corev1.EnvVar{
			{Name: PodIdentityURIEnv, Value: "http://169.254.170.23/v1/credentials"},
			{Name: PodIdentityTokenEnv, Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"},
		}, env...)}},
	}}
}

func piRole(tagSession bool) *Role {
	d := trust.New()
	if _, err := d.AddPodIdentity(trust.PodIdentityRequest{}); err != nil {
		panic(err)
	}
	if !tagSession {
		var err error
		d, err = trust.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		if err != nil {
			panic(err)
		}
	}
	return &Role{ARN: piRoleARN, Name: "pi-role", Account: acct, Found: true, Trust: d}
}

func TestPodIdentityRules(t *testing.T) {
	yes, no := true, false
	assoc := func(created time.Time) map[string]Association {
		return map[string]Association{"irsa-sample-ns/irsa-test": {ID: "a-0123456789abcdefg", RoleARN: piRoleARN, Created: created}}
	}
	plainSA := annotatedSA(nil)
	tests := []struct {
		name    string
		cluster Cluster
		subject Subject
		want    []string
		absent  []string
	}{
		{"injected pod with a good role is clean", Cluster{Associations: assoc(time.Time{}), AgentInstalled: &yes},
			Subject{SA: plainSA, Pods: []Pod{piPod()}, PodIdentityRole: piRole(true)}, nil,
			[]string{NotAnnotated, PodNotInjected, PodIdentityNotInjected, PodIdentityTrustInvalid, PodIdentityAgentMissing, PodIdentityProxy, BothMechanisms, PodIdentityOldSDK}},
		{"agent missing", Cluster{Associations: assoc(time.Time{}), AgentInstalled: &no},
			Subject{SA: plainSA, Pods: []Pod{piPod()}, PodIdentityRole: piRole(true)}, []string{PodIdentityAgentMissing}, nil},
		{"role missing", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, PodIdentityRole: &Role{ARN: piRoleARN, Name: "pi-role"}}, []string{PodIdentityRoleMissing}, []string{PodIdentityTrustInvalid}},
		{"trust without TagSession", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, PodIdentityRole: piRole(false)}, []string{PodIdentityTrustInvalid}, nil},
		{"pod older than the association", Cluster{Associations: assoc(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))},
			Subject{SA: plainSA, Pods: []Pod{{Namespace: "irsa-sample-ns", Name: "old", Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}}},
			[]string{PodIdentityNotInjected}, []string{PodNotInjected, NotAnnotated}},
		{"fargate", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, Pods: []Pod{func() Pod { p := piPod(); p.Spec.SchedulerName = "fargate-scheduler"; return p }()}}, []string{PodIdentityUnsupportedCompute}, nil},
		{"windows", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, Pods: []Pod{func() Pod {
				p := piPod()
				p.Spec.NodeSelector = map[string]string{corev1.LabelOSStable: "windows"}
				return p
			}()}}, []string{PodIdentityUnsupportedCompute}, nil},
		{"proxy without NO_PROXY", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, Pods: []Pod{piPod(corev1.EnvVar{Name: "HTTPS_PROXY", Value: "http://proxy:3128"}, corev1.EnvVar{Name: "NO_PROXY", Value: "localhost,10.0.0.0/8"})}}, []string{PodIdentityProxy}, nil},
		{"proxy with NO_PROXY covering the agent", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, Pods: []Pod{piPod(corev1.EnvVar{Name: "http_proxy", Value: "http://proxy:3128"}, corev1.EnvVar{Name: "no_proxy", Value: "localhost,169.254.0.0/16"})}}, nil, []string{PodIdentityProxy}},
		{"old CLI image", Cluster{Associations: assoc(time.Time{})},
			Subject{SA: plainSA, Pods: []Pod{func() Pod { p := piPod(); p.Spec.Containers[0].Image = "amazon/aws-cli:2.13.0"; return p }()}}, []string{PodIdentityOldSDK}, []string{OldSDK}},
		{"both mechanisms, same role: informational", Cluster{Associations: assoc(time.Time{}), PodIdentity: map[string]bool{"irsa-sample-ns/irsa-test": true}},
			Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: piRoleARN}), Pods: []Pod{piPod()}, PodIdentityRole: piRole(true)},
			[]string{BothMechanisms}, []string{PodNotInjected, PodIdentityOverrides, PodIdentityNotInjected}},
		{"both mechanisms, other roles", Cluster{Associations: assoc(time.Time{}), PodIdentity: map[string]bool{"irsa-sample-ns/irsa-test": true}},
			Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{piPod()}, PodIdentityRole: piRole(true), Role: &Role{ARN: roleARN, Name: "irsa-role", Account: acct}},
			[]string{BothMechanisms, PodIdentityOverrides}, []string{PodNotInjected, RoleMissing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cluster
			c.Issuer = issuer
			got := Diagnose(c, tt.subject)
			for _, id := range tt.want {
				if find(got, id) == nil {
					t.Errorf("missing %s; got %v", id, ids(got))
				}
			}
			for _, id := range tt.absent {
				if f := find(got, id); f != nil {
					t.Errorf("unexpected %s: %+v", id, *f)
				}
			}
		})
	}
}

func TestOldPodIdentitySDKInLog(t *testing.T) {
	for line, want := range map[string]bool{
		"User-Agent: Boto3/1.34.40 md/Botocore#1.34.40 ua/2.0":                 true,
		"User-Agent: Boto3/1.34.41 md/Botocore#1.34.41 ua/2.0":                 false,
		"user agent aws-sdk-go/1.47.10 (go1.21; linux; amd64)":                 true,
		"user agent aws-sdk-go/1.50.0 (go1.21; linux; amd64)":                  false,
		"aws-sdk-java/2.21.29 Linux/5.10":                                      true,
		"aws-sdk-js/3.458.0 os/linux":                                          false,
		"aws-cli/2.14.6 Python/3.11.6 Linux/5.10 exe/x86_64":                   true,
		"aws-cli/1.29.0 Python/3.11.6 Linux/5.10 botocore/1.31.0":              true,
		"aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21":                           true,
		"nothing about sdks here: connection refused 169.254.170.23:80 (dial)": false,
	} {
		if _, got := OldPodIdentitySDKInLog(line); got != want {
			t.Errorf("%q: got %v, want %v", line, got, want)
		}
	}
	// A hostile line: the echoed version is capped (first components, at most 32 characters).
	for line, want := range map[string]string{
		"boto3/1.2." + strings.Repeat("1.", 3000):                      "boto3 1.2.1 is older",
		"aws-sdk-go/1.47.10" + strings.Repeat(".5", 3000):              "AWS SDK for Go v1 1.47.10 is older",
		"aws-sdk-dotnet-core/3.7.733.9." + strings.Repeat("0.", 100):   "AWS SDK for .NET 3.7.733.9 is older",
		"aws-cli/2.14.6. Python/3.11.6":                                "AWS CLI v2 2.14.6 is older",
		"aws-sdk-java/2." + strings.Repeat("0", 40) + "1.0 Linux/5.10": "AWS SDK for Java v2 2." + strings.Repeat("0", 30) + " is older",
	} {
		got, ok := OldPodIdentitySDKInLog(line)
		if !ok || !strings.HasPrefix(got, want) || len(got) > 140 {
			t.Errorf("%.40q...: got %v %q (%d bytes), want %q...", line, ok, got, len(got), want)
		}
	}
	if !NoProxyCovers(" *", PodIdentityAgentIP) || NoProxyCovers("169.254.169.254", PodIdentityAgentIP) || !NoProxyCovers("a,169.254.170.23", PodIdentityAgentIP) {
		t.Error("NoProxyCovers")
	}
}

func TestAuditAssociationRules(t *testing.T) {
	yes, no := true, false
	base := AuditAssociation{ID: "a-1", Namespace: "shop", ServiceAccount: "cart", RoleARN: piRoleARN}
	for _, tc := range []struct {
		name string
		mod  func(*AuditAssociation)
		want []string
	}{
		{"clean", func(a *AuditAssociation) { a.RoleFound = &yes; a.Annotation = piRoleARN }, nil},
		{"unknown role is no finding", func(*AuditAssociation) {}, nil},
		{"role missing", func(a *AuditAssociation) { a.RoleFound = &no }, []string{PodIdentityRoleMissing}},
		{"annotation differs", func(a *AuditAssociation) { a.RoleFound = &yes; a.Annotation = roleARN }, []string{MechanismConflict}},
	} {
		a := base
		tc.mod(&a)
		if got := ids(AuditAssociationRules(a)); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
