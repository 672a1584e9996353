package doctor

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

const (
	issuer  = "https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123"
	acct    = "123456789012"
	roleARN = "arn:aws:iam::123456789012:role/irsa-role"
)

var prov = trust.NewProvider("aws", acct, issuer)

func annotatedSA(ann map[string]string) ServiceAccount {
	return ServiceAccount{Namespace: "irsa-sample-ns", Name: "irsa-test", Exists: true, Annotations: ann}
}

func injectedPod(role string) Pod {
	return Pod{Namespace: "irsa-sample-ns", Name: "app-1", Owner: "deployment/app", Spec: corev1.PodSpec{
		ServiceAccountName: "irsa-test",
		Containers: []corev1.Container{{Name: "app", Image: "amazon/aws-cli:2.15.0", Env: []corev1.EnvVar{
			{Name: "AWS_ROLE_ARN", Value: role}, {Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
		}}},
		Volumes: []corev1.Volume{{Name: "aws-iam-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Audience: "sts.amazonaws.com", Path: "token"}}}}}}},
	}}
}

func trustFor(subjects ...string) *trust.Document {
	d := trust.New()
	d.AddSubjects(prov, trust.DefaultAudience, subjects...)
	return d
}

func goodRole() *Role {
	return &Role{ARN: roleARN, Name: "irsa-role", Account: acct, Found: true,
		Trust:    trustFor("system:serviceaccount:irsa-sample-ns:irsa-test"),
		Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:ListClusters","Resource":"*"}]}`}}
}

func goodProvider() *Provider {
	return &Provider{ARN: prov.ARN, Found: true, ClientIDs: []string{"sts.amazonaws.com"}}
}

func classify(t *testing.T, lines ...string) []logclass.Finding {
	t.Helper()
	c := &logclass.Classifier{}
	var out []logclass.Finding
	for i, l := range lines {
		f, ok := c.ClassifyLine(l)
		if !ok {
			t.Fatalf("line not classified: %s", l)
		}
		f.Line = i + 1
		out = append(out, f)
	}
	return out
}

const seedDenied = `An error occurred (AccessDeniedException) when calling the ListClusters operation: User: arn:aws:sts::123456789012:assumed-role/eks-node-group-role/i-0abc123def4567890 is not authorized to perform: eks:ListClusters on resource: arn:aws:eks:us-east-1:123456789012:cluster/*`

func ids(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func find(fs []Finding, id string) *Finding {
	for i := range fs {
		if fs[i].ID == id {
			return &fs[i]
		}
	}
	return nil
}

func TestDiagnose(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name    string
		cluster Cluster
		subject func(t *testing.T) Subject
		want    []string // ids that must be present
		absent  []string // ids that must not be
		fix     map[string]string
	}{
		{
			name: "seed first iteration: not annotated, node role in logs",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(nil), Pods: []Pod{{Namespace: "irsa-sample-ns", Name: "job-1", Spec: corev1.PodSpec{ServiceAccountName: "irsa-test", Containers: []corev1.Container{{Name: "aws"}}}}},
					Logs: classify(t, seedDenied)}
			},
			want: []string{NodeRoleFallback, NotAnnotated},
			fix:  map[string]string{NotAnnotated: "kubectl irsa link irsa-test -n irsa-sample-ns --allow eks:ListClusters", NodeRoleFallback: "kubectl irsa link irsa-test -n irsa-sample-ns --allow eks:ListClusters"},
		},
		{
			name:    "all good",
			cluster: Cluster{WebhookInstalled: &yes},
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{injectedPod(roleARN)}, Role: goodRole(), Provider: goodProvider()}
			},
			absent: []string{NotAnnotated, PodNotInjected, TrustMismatch, RoleMissing, NoOIDCProvider, PermissionMissing, WebhookMissing},
		},
		{
			name:    "pod predates the annotation",
			cluster: Cluster{WebhookInstalled: &yes},
			subject: func(t *testing.T) Subject {
				p := injectedPod(roleARN)
				p.Spec.Containers[0].Env = nil
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{p}, Role: goodRole(), Provider: goodProvider()}
			},
			want:   []string{PodNotInjected},
			absent: []string{WebhookMissing},
			fix:    map[string]string{PodNotInjected: "kubectl rollout restart deployment/app -n irsa-sample-ns"},
		},
		{
			name:    "webhook missing explains the missing injection",
			cluster: Cluster{WebhookInstalled: &no},
			subject: func(t *testing.T) Subject {
				p := injectedPod(roleARN)
				p.Spec.Containers[0].Env = nil
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{p}, Role: goodRole(), Provider: goodProvider()}
			},
			want: []string{PodNotInjected, WebhookMissing},
		},
		{
			name: "role mismatch",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{injectedPod("arn:aws:iam::123456789012:role/old")}, Role: goodRole(), Provider: goodProvider()}
			},
			want: []string{RoleMismatch},
		},
		{
			name: "annotation key typo",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{"eks.amazon.com/role-arn": roleARN})}
			},
			want:   []string{AnnotationMalformed},
			absent: []string{NotAnnotated},
		},
		{
			name: "malformed ARN",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::::role"})}
			},
			want: []string{AnnotationMalformed},
		},
		{
			name: "wrong service account",
			subject: func(t *testing.T) Subject {
				sa := ServiceAccount{Namespace: "irsa-sample-ns", Name: "default", Exists: true}
				return Subject{SA: sa, AnnotatedInNamespace: []string{"irsa-test"}, Pods: []Pod{{Namespace: "irsa-sample-ns", Name: "p", Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}}}
			},
			want: []string{WrongServiceAccount, NotAnnotated},
		},
		{
			name: "static credentials in env",
			subject: func(t *testing.T) Subject {
				p := injectedPod(roleARN)
				p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "AWS_ACCESS_KEY_ID", Value: "AKIAIOSFODNN7EXAMPLE"}, corev1.EnvVar{Name: "AWS_SECRET_ACCESS_KEY", ValueFrom: &corev1.EnvVarSource{}})
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{p}, Role: goodRole(), Provider: goodProvider()}
			},
			want: []string{StaticCredentials},
		},
		{
			name: "non-root without fsGroup, hostNetwork, old CLI image",
			subject: func(t *testing.T) Subject {
				p := injectedPod(roleARN)
				uid := int64(1000)
				p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: &uid}
				p.Spec.HostNetwork = true
				p.Spec.Containers[0].Image = "mesosphere/aws-cli:1.14.5"
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{p}, Role: goodRole(), Provider: goodProvider()}
			},
			want: []string{TokenUnreadable, HostNetwork, OldSDK},
		},
		{
			name: "role missing",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: &Role{ARN: roleARN, Name: "irsa-role", Account: acct}}
			},
			want: []string{RoleMissing},
			fix:  map[string]string{RoleMissing: "kubectl irsa link irsa-test -n irsa-sample-ns --role-name irsa-role"},
		},
		{
			name: "trust names another ServiceAccount",
			subject: func(t *testing.T) Subject {
				r := goodRole()
				r.Trust = trustFor("system:serviceaccount:irsa-ns:irsa-sa")
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: r, Provider: goodProvider()}
			},
			want: []string{TrustMismatch},
		},
		{
			name: "issuer URL as principal",
			subject: func(t *testing.T) Subject {
				r := goodRole()
				r.Trust, _ = trust.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + issuer + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + prov.HostPath + `:sub":"system:serviceaccount:irsa-sample-ns:irsa-test"}}}]}`)
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: r, Provider: goodProvider()}
			},
			want: []string{TrustMismatch},
		},
		{
			name: "no OIDC provider, bad audience",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN, iamref.AudienceAnnotation: "custom"}), Role: goodRole(), Provider: &Provider{ARN: prov.ARN}}
			},
			want: []string{NoOIDCProvider},
		},
		{
			name: "audience not a client ID",
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN, iamref.AudienceAnnotation: "custom"}), Role: goodRole(), Provider: goodProvider()}
			},
			want: []string{BadAudience},
		},
		{
			name: "permission missing for a denied action",
			subject: func(t *testing.T) Subject {
				logs := classify(t, `operation error S3: GetObject, https response error StatusCode: 403, RequestID: X, api error AccessDenied: User: arn:aws:sts::123456789012:assumed-role/irsa-role/botocore-session-1 is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k"`)
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{injectedPod(roleARN)}, Role: goodRole(), Provider: goodProvider(), Logs: logs}
			},
			want:   []string{PermissionMissing},
			absent: []string{TrustMismatch, PodNotInjected, NotAnnotated},
			fix:    map[string]string{PermissionMissing: "--allow s3:GetObject"},
		},
		{
			name:    "pod identity association takes precedence",
			cluster: Cluster{PodIdentity: map[string]bool{"irsa-sample-ns/irsa-test": true}},
			subject: func(t *testing.T) Subject {
				return Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: goodRole(), Provider: goodProvider()}
			},
			want: []string{PodIdentityOverrides},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cluster
			c.Issuer = issuer
			got := Diagnose(c, tt.subject(t))
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
			for id, fix := range tt.fix {
				if f := find(got, id); f == nil || !strings.Contains(f.Fix, fix) {
					t.Errorf("%s fix = %+v, want it to contain %q", id, f, fix)
				}
			}
			for _, f := range got {
				if f.Summary == "" || f.Target == "" || f.Check == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

func TestTrustMismatchShowsBothSides(t *testing.T) {
	r := goodRole()
	r.Trust = trustFor("system:serviceaccount:irsa-ns:irsa-sa")
	got := Diagnose(Cluster{Issuer: issuer}, Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Role: r, Provider: goodProvider()})
	f := find(got, TrustMismatch)
	ev := strings.Join(f.Evidence, "\n")
	for _, want := range []string{"trust expects sub system:serviceaccount:irsa-ns:irsa-sa", "sub=system:serviceaccount:irsa-sample-ns:irsa-test"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evidence lacks %q:\n%s", want, ev)
		}
	}
}

func TestStaticCredentialsNeverPrintsValues(t *testing.T) {
	p := injectedPod(roleARN)
	p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: "AWS_SECRET_ACCESS_KEY", Value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
	got := Diagnose(Cluster{Issuer: issuer}, Subject{SA: annotatedSA(map[string]string{iamref.RoleARNAnnotation: roleARN}), Pods: []Pod{p}})
	for _, f := range got {
		if strings.Contains(strings.Join(append(f.Evidence, f.Summary, f.Fix), " "), "wJalrXUtnFEMI") {
			t.Errorf("secret printed in %+v", f)
		}
	}
}

func TestPoliciesAllow(t *testing.T) {
	pol := func(stmts string) string { return `{"Version":"2012-10-17","Statement":[` + stmts + `]}` }
	tests := []struct {
		policies []string
		action   string
		want     bool
	}{
		{[]string{pol(`{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}`)}, "s3:GetObject", true},
		{[]string{pol(`{"Effect":"Allow","Action":["eks:ListClusters"],"Resource":"*"}`)}, "s3:GetObject", false},
		{[]string{pol(`{"Effect":"Allow","Action":"*","Resource":"*"}`), pol(`{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)}, "s3:GetObject", false},
		{[]string{pol(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, "s3:GetObject", true},
		{[]string{pol(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, "iam:CreateUser", false},
		{[]string{"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22S3%3AGETOBJECT%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"}, "s3:GetObject", true},
		{nil, "s3:GetObject", false},
	}
	for i, tt := range tests {
		if got := PoliciesAllow(tt.policies, tt.action); got != tt.want {
			t.Errorf("%d: PoliciesAllow(%s) = %v", i, tt.action, got)
		}
	}
}

func TestOldSDK(t *testing.T) {
	tests := []struct {
		line string
		old  bool
	}{
		{"User-Agent: aws-sdk-go/1.15.0 (go1.12; linux; amd64)", true},
		{"aws-sdk-go/1.44.0", false},
		{"Boto3/1.9.100 Python/3.7 Botocore/1.12.100", true},
		{"Boto3/1.26.0 Python/3.11 Botocore/1.29.0", false},
		{"aws-sdk-java/1.11.500 Linux/5.4", true},
		{"aws-sdk-java/2.10.11", false},
		{"aws-sdk-java/2.5.0", true},
		{"aws-cli/1.16.100 Python/2.7", true},
		{"aws-cli/2.15.0 Python/3.11", false},
		{"aws-sdk-nodejs/2.400.0 linux/v10", true},
		{"aws-sdk-js/3.20.0", true},
		{"aws-sdk-dotnet-core/3.3.500.0", true},
	}
	for _, tt := range tests {
		if _, old := oldSDKInLog(tt.line); old != tt.old {
			t.Errorf("oldSDKInLog(%q) = %v", tt.line, old)
		}
	}
	if _, old := oldSDKInImage("amazon/aws-cli:2.15.0"); old {
		t.Error("aws-cli 2 flagged")
	}
	if _, old := oldSDKInImage("registry.example.com/tools/awscli:1.16.0"); !old {
		t.Error("awscli 1.16.0 not flagged")
	}
}

func TestMergeOrdersBySeverity(t *testing.T) {
	got := Merge([]Finding{
		{ID: "A", Severity: Info, Target: "x"},
		{ID: "B", Severity: Error, Target: "x", Evidence: []string{"1"}},
		{ID: "B", Severity: Warning, Target: "x", Evidence: []string{"2", "1"}},
	})
	if !slices.Equal(ids(got), []string{"B", "A"}) || len(got[0].Evidence) != 2 || got[0].Severity != Error {
		t.Errorf("Merge = %+v", got)
	}
}
