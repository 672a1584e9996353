package setup

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
)

const workerNodePolicy = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"

func roleARN(name string) string { return "arn:aws:iam::" + fakeaws.Account + ":role/" + name }

// nodeRoleFixture is a cluster with node roles in aws-auth (cm-node, without the permission) and in access
// entries (entry-node without it, entry-ok with AmazonEKSWorkerNodePolicy, win-node of type EC2_WINDOWS without
// it), plus an admin role entry and a user entry that are not node roles.
func nodeRoleFixture(t *testing.T) (*preflight, *fake.Clientset, *fakeaws.AWS) {
	t.Helper()
	ctx := context.Background()
	cloud := fakeaws.New()
	for _, name := range []string{"cm-node", "entry-node", "entry-ok", "win-node", "admin"} {
		cloud.IAM.AddRole("", name, `{"Version":"2012-10-17","Statement":[]}`)
	}
	if _, err := cloud.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("entry-ok"), PolicyArn: aws.String(workerNodePolicy)}); err != nil {
		t.Fatal(err)
	}
	cloud.EKS.Clusters["prod"] = testIssuer
	cloud.EKS.AccessEntries = map[string]string{
		roleARN("entry-node"): "EC2_LINUX", roleARN("entry-ok"): "EC2_LINUX", roleARN("win-node"): "EC2_WINDOWS",
		roleARN("admin"): "STANDARD", "arn:aws:iam::" + fakeaws.Account + ":user/jane": "STANDARD",
	}
	kube := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"},
		Data: map[string]string{"mapRoles": "- rolearn: " + roleARN("cm-node") + "\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n" +
			"- rolearn: " + roleARN("admin") + "\n  username: admin\n  groups: [system:masters]\n"}})
	m := &Migrator{PodIdentity: &PodIdentity{Setup: &Setup{Kube: kube, IAM: cloud.IAM}, EKS: cloud.EKS, Cluster: "prod"}, AccessEntries: cloud.EKS}
	return &preflight{m: m}, kube, cloud
}

func TestNodeRoleChecks(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: eks:ListAccessEntries"}
	cases := []struct {
		name  string
		setup func(*preflight, *fake.Clientset, *fakeaws.AWS)
		// blocked: node roles reported as PodIdentityNodeRole; unchecked: substrings of the could-not-check notes.
		blocked, unchecked []string
		// calls that must (not) have been made.
		called, notCalled []string
	}{
		{name: "mode unknown: aws-auth and access entries",
			blocked: []string{"cm-node (aws-auth)", "entry-node (access entry)", "win-node (access entry)"},
			called:  []string{"DescribeCluster", "ListAccessEntries", "DescribeAccessEntry"}},
		{name: "API_AND_CONFIG_MAP: both", setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.EKS.AuthenticationMode = "API_AND_CONFIG_MAP" },
			blocked: []string{"cm-node (aws-auth)", "entry-node (access entry)", "win-node (access entry)"}},
		{name: "API: aws-auth is not used by EKS", setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.EKS.AuthenticationMode = "API" },
			blocked: []string{"entry-node (access entry)", "win-node (access entry)"}},
		{name: "CONFIG_MAP: no access entries read", setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.EKS.AuthenticationMode = "CONFIG_MAP" },
			blocked: []string{"cm-node (aws-auth)"}, notCalled: []string{"ListAccessEntries", "DescribeAccessEntry"}},
		{name: "one entry a page: every page read", setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.PageSize = 1 },
			blocked: []string{"cm-node (aws-auth)", "entry-node (access entry)", "win-node (access entry)"}},
		{name: "ListAccessEntries denied: could not check, aws-auth still checked",
			setup:   func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.Fail("ListAccessEntries", denied) },
			blocked: []string{"cm-node (aws-auth)"}, unchecked: []string{"could not check the node roles in EKS access entries (eks:ListAccessEntries prod): AccessDeniedException"},
			notCalled: []string{"DescribeAccessEntry"}},
		{name: "mode unknown and InvalidRequestException: a CONFIG_MAP cluster, nothing unchecked",
			setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) {
				c.Fail("ListAccessEntries", &smithy.GenericAPIError{Code: "InvalidRequestException", Message: "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."})
			},
			blocked: []string{"cm-node (aws-auth)"}},
		{name: "DescribeAccessEntry denied: each entry could not be checked",
			setup:   func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.Fail("DescribeAccessEntry", denied) },
			blocked: []string{"cm-node (aws-auth)"}, unchecked: []string{"could not check EKS access entry " + roleARN("entry-node"), "could not check EKS access entry " + roleARN("admin")}},
		{name: "DescribeCluster denied: mode unknown, both read",
			setup:   func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) { c.Fail("DescribeCluster", denied) },
			blocked: []string{"cm-node (aws-auth)", "entry-node (access entry)", "win-node (access entry)"}},
		{name: "aws-auth forbidden: could not check, access entries still checked",
			setup: func(_ *preflight, k *fake.Clientset, _ *fakeaws.AWS) {
				k.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "aws-auth", nil)
				})
			},
			blocked: []string{"entry-node (access entry)", "win-node (access entry)"}, unchecked: []string{"could not check the node roles in kube-system/aws-auth: configmaps \"aws-auth\" is forbidden"}},
		{name: "no aws-auth: access entries only",
			setup: func(_ *preflight, k *fake.Clientset, _ *fakeaws.AWS) {
				_ = k.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), "aws-auth", metav1.DeleteOptions{})
			},
			blocked: []string{"entry-node (access entry)", "win-node (access entry)"}},
		{name: "node role policies unreadable: could not check that role",
			setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) {
				c.Fail("ListAttachedRolePolicies", fakeaws.AccessDenied("ListAttachedRolePolicies"))
			},
			unchecked: []string{"could not check whether node role cm-node (aws-auth) may call eks-auth:AssumeRoleForPodIdentity: iam:ListAttachedRolePolicies cm-node: AccessDenied"}},
		{name: "inline eks-auth:* allows",
			setup: func(_ *preflight, _ *fake.Clientset, c *fakeaws.AWS) {
				c.IAM.PutInline("entry-node", "agent", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"*"}]}`)
			},
			blocked: []string{"cm-node (aws-auth)", "win-node (access entry)"}},
		{name: "no EKS client: access entries not checked",
			setup:   func(p *preflight, _ *fake.Clientset, _ *fakeaws.AWS) { p.m.AccessEntries = nil },
			blocked: []string{"cm-node (aws-auth)"}, unchecked: []string{"could not check the node roles in EKS access entries: no EKS client"}},
	}
	all := []string{"cm-node", "entry-node", "entry-ok", "win-node", "admin"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, kube, cloud := nodeRoleFixture(t)
			if c.setup != nil {
				c.setup(p, kube, cloud)
			}
			reasons, unchecked := p.nodeRoleChecks(context.Background())
			got := strings.Join(reasons, "\n")
			for _, role := range all {
				want := slices.ContainsFunc(c.blocked, func(b string) bool { return strings.HasPrefix(b, role+" ") })
				if has := strings.Contains(got, "node role "+role+" "); has != want {
					t.Errorf("role %s blocked = %v, want %v:\n%s", role, has, want, got)
				}
			}
			for _, b := range c.blocked {
				if !strings.Contains(got, "PodIdentityNodeRole: node role "+b+" may not call eks-auth:AssumeRoleForPodIdentity: attach") {
					t.Errorf("no reason for %s:\n%s", b, got)
				}
			}
			notes := strings.Join(unchecked, "\n")
			for _, u := range c.unchecked {
				if !strings.Contains(notes, u) {
					t.Errorf("unchecked lacks %q:\n%s", u, notes)
				}
			}
			if len(c.unchecked) == 0 && len(unchecked) > 0 {
				t.Errorf("unexpected could-not-check: %s", notes)
			}
			calls := cloud.Calls()
			for _, op := range c.called {
				if !slices.Contains(calls, op) {
					t.Errorf("%s not called: %v", op, calls)
				}
			}
			for _, op := range c.notCalled {
				if slices.Contains(calls, op) {
					t.Errorf("%s called: %v", op, calls)
				}
			}
			// Users are never described; each role entry once.
			if n := count(calls, "DescribeAccessEntry"); n > 4 {
				t.Errorf("%d DescribeAccessEntry calls, want at most one per role entry (4): %v", n, calls)
			}
		})
	}
}

func count(calls []string, op string) int {
	n := 0
	for _, c := range calls {
		if c == op {
			n++
		}
	}
	return n
}

// TestNodeRolePolicies: the policies of node role entry-node are evaluated together, inline and managed, for
// eks-auth:AssumeRoleForPodIdentity.
func TestNodeRolePolicies(t *testing.T) {
	const (
		allowAction = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:AssumeRoleForPodIdentity","Resource":"*"}]}`
		denyAll     = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
		cluster     = "arn:aws:eks:us-east-1:" + fakeaws.Account + ":cluster/prod"
	)
	attach := func(t *testing.T, c *fakeaws.AWS, role, arn string) {
		t.Helper()
		if _, err := c.IAM.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		setup func(*testing.T, *preflight, *fakeaws.AWS)
		// blocked: a substring of entry-node's PodIdentityNodeRole reason ("" when it passes); unchecked: of its
		// could-not-check note ("" when there is none).
		blocked, unchecked string
		// reads: GetPolicy calls expected, and GetPolicyVersion calls unless GetPolicy fails (noVersion).
		reads     int
		noVersion bool
	}{
		{name: "no policy: attach AmazonEKSWorkerNodePolicy",
			blocked: "may not call eks-auth:AssumeRoleForPodIdentity: attach " + workerNodePolicy},
		{name: "AWS managed AmazonEKSWorkerNodePolicy by its exact ARN, not read",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) { attach(t, c, "entry-node", workerNodePolicy) }},
		{name: "AWS managed AmazonEKSWorkerNodeMinimalPolicy by its exact ARN, not read",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", "arn:aws:iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy")
			}},
		{name: "AmazonEKSWorkerNodePolicy of another partition is read (the fake's Allow *)",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", "arn:aws-cn:iam::aws:policy/AmazonEKSWorkerNodePolicy")
			},
			reads: 1},
		{name: "customer managed AmazonEKSWorkerNodePolicy with Deny *: blocks",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("AmazonEKSWorkerNodePolicy", denyAll))
			},
			blocked: "a Deny in arn:aws:iam::" + fakeaws.Account + ":policy/AmazonEKSWorkerNodePolicy refuses it", reads: 1},
		{name: "customer managed AmazonEKSWorkerNodePolicy without the action: not trusted by its name",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("AmazonEKSWorkerNodePolicy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`))
			},
			blocked: "attach " + workerNodePolicy, reads: 1},
		{name: "customer managed Allow passes",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("pod-identity-agent", allowAction))
			},
			reads: 1},
		{name: "inline Deny overrides the AWS managed Allow",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", workerNodePolicy)
				c.IAM.PutInline("entry-node", "lockdown", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"eks-auth:*","Resource":"*"}]}`)
			},
			blocked: "a Deny in inline policy lockdown refuses it"},
		{name: "inline Deny overrides a customer managed Allow",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("pod-identity-agent", allowAction))
				c.IAM.PutInline("entry-node", "lockdown", denyAll)
			},
			blocked: "a Deny in inline policy lockdown refuses it", reads: 1},
		{name: "managed Deny with NotAction of other services covers the action",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", workerNodePolicy)
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("only-ec2", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["ec2:*","ecr:*"],"Resource":"*"}]}`))
			},
			blocked: "a Deny in arn:aws:iam::" + fakeaws.Account + ":policy/only-ec2 refuses it", reads: 1},
		{name: "Deny with NotAction naming eks-auth:* spares it",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", workerNodePolicy)
				c.IAM.PutInline("entry-node", "guard", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["ec2:*","eks-auth:*"],"Resource":"*"}]}`)
			}},
		{name: "wildcard Allow eks-auth:Assume*",
			setup: func(_ *testing.T, _ *preflight, c *fakeaws.AWS) {
				c.IAM.PutInline("entry-node", "agent", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["EKS-AUTH:Assume*"],"Resource":"*"}]}`)
			}},
		{name: "wildcard Allow of another service: blocks",
			setup: func(_ *testing.T, _ *preflight, c *fakeaws.AWS) {
				c.IAM.PutInline("entry-node", "agent", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:*","Resource":"*"}]}`)
			},
			blocked: "attach " + workerNodePolicy},
		{name: "Allow on the cluster's ARN",
			setup: func(_ *testing.T, p *preflight, c *fakeaws.AWS) {
				p.clusterARN = cluster
				c.IAM.PutInline("entry-node", "agent", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*:*:cluster/prod"}]}`)
			}},
		{name: "Allow on another cluster's ARN: blocks",
			setup: func(_ *testing.T, p *preflight, c *fakeaws.AWS) {
				p.clusterARN = cluster
				c.IAM.PutInline("entry-node", "agent", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks-auth:*","Resource":"arn:aws:eks:*:*:cluster/dev"}]}`)
			},
			blocked: "attach " + workerNodePolicy},
		{name: "a condition cannot be evaluated: could not tell, not a block",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", workerNodePolicy)
				c.IAM.PutInline("entry-node", "region", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`)
			},
			unchecked: "could not tell whether node role entry-node (access entry) may call eks-auth:AssumeRoleForPodIdentity: it depends on aws:RequestedRegion, not evaluated locally (in inline policy region)"},
		{name: "GetPolicyVersion denied: could not check, not a pass",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", workerNodePolicy)
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("custom", allowAction))
				c.Fail("GetPolicyVersion", fakeaws.AccessDenied("GetPolicyVersion"))
			},
			unchecked: "could not check whether node role entry-node (access entry) may call eks-auth:AssumeRoleForPodIdentity: iam:GetPolicyVersion arn:aws:iam::" + fakeaws.Account + ":policy/custom v1: AccessDenied", reads: 1},
		{name: "GetPolicy denied: could not check, not a block",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", c.IAM.AddManagedPolicy("custom", allowAction))
				c.Fail("GetPolicy", fakeaws.AccessDenied("GetPolicy"))
			},
			unchecked: "iam:GetPolicy arn:aws:iam::" + fakeaws.Account + ":policy/custom: AccessDenied", reads: 1, noVersion: true},
		{name: "GetRolePolicy denied: could not check",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				attach(t, c, "entry-node", workerNodePolicy)
				c.IAM.PutInline("entry-node", "agent", allowAction)
				c.Fail("GetRolePolicy", fakeaws.AccessDenied("GetRolePolicy"))
			},
			unchecked: "iam:GetRolePolicy entry-node/agent: AccessDenied"},
		{name: "a policy shared by two node roles is read once",
			setup: func(t *testing.T, _ *preflight, c *fakeaws.AWS) {
				arn := c.IAM.AddManagedPolicy("pod-identity-agent", allowAction)
				attach(t, c, "entry-node", arn)
				attach(t, c, "win-node", arn)
			},
			reads: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _, cloud := nodeRoleFixture(t)
			cloud.EKS.AuthenticationMode = "API" // node roles entry-node, entry-ok, win-node
			if c.setup != nil {
				c.setup(t, p, cloud)
			}
			reasons, unchecked := p.nodeRoleChecks(context.Background())
			var blocked, notes []string
			for _, r := range reasons {
				if strings.Contains(r, "node role entry-node ") {
					blocked = append(blocked, r)
				}
				if strings.Contains(r, "node role entry-ok ") {
					t.Errorf("entry-ok (AmazonEKSWorkerNodePolicy) blocked: %s", r)
				}
			}
			for _, u := range unchecked {
				if strings.Contains(u, "node role entry-node ") {
					notes = append(notes, u)
				}
			}
			switch {
			case c.blocked == "" && len(blocked) > 0:
				t.Errorf("entry-node blocked: %v", blocked)
			case c.blocked != "" && (len(blocked) != 1 || !strings.Contains(blocked[0], c.blocked)):
				t.Errorf("entry-node reasons %v, want one with %q", blocked, c.blocked)
			}
			switch {
			case c.unchecked == "" && len(notes) > 0:
				t.Errorf("entry-node could-not-check: %v", notes)
			case c.unchecked != "" && (len(notes) != 1 || !strings.Contains(notes[0], c.unchecked)):
				t.Errorf("entry-node could-not-check %v, want one with %q", notes, c.unchecked)
			}
			calls := cloud.Calls()
			if n := count(calls, "GetPolicy"); n != c.reads {
				t.Errorf("%d GetPolicy calls, want %d: %v", n, c.reads, calls)
			}
			wantVersions := c.reads
			if c.noVersion {
				wantVersions = 0
			}
			if n := count(calls, "GetPolicyVersion"); n != wantVersions {
				t.Errorf("%d GetPolicyVersion calls, want %d: %v", n, wantVersions, calls)
			}
		})
	}
}
