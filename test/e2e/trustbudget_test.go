package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
	"github.com/kubectl-irsa/kubectl-irsa/test/sandbox"
)

// nearlyFullRole creates (directly in moto, indented as a person would write it) a role whose trust admits as
// many ServiceAccounts sa-NNN of ns as fit in 2,048 characters, so that next does not, and deletes it in cleanup.
func nearlyFullRole(t *testing.T, name, ns, next string) {
	t.Helper()
	d := trust.New()
	for i := 0; ; i++ {
		c := d.Clone()
		c.AddSubjects(provider(), "sts.amazonaws.com", trust.Subject(ns, fmt.Sprintf("sa-%03d", i)))
		if c.Size() > 2048 {
			break
		}
		d = c
	}
	if c := d.Clone(); len(c.AddSubjects(provider(), "sts.amazonaws.com", trust.Subject(ns, next))) != 1 || c.Size() <= 2048 {
		t.Fatalf("fixture: %s still fits (%d characters)", next, c.Size())
	}
	if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(d.Indent())}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = iamClient.DeleteRole(context.Background(), &iam.DeleteRoleInput{RoleName: aws.String(name)})
	})
}

// iamSize is the role's trust as IAM stores it, counted as IAM counts it: characters other than whitespace.
func iamSize(t *testing.T, role string) int {
	t.Helper()
	out, err := iamClient.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func budgetOf(t *testing.T, args ...string) *inspect.TrustBudgetReport {
	t.Helper()
	r := irsaCmd(t, append([]string{"trust", "budget", "-o", "json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("trust budget: %s", r)
	}
	var rep inspect.TrustBudgetReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	return &rep
}

// TestTrustQuotaLinkRefusedThenRaised: a link that would take a role's trust over the account's quota (2,048) is
// refused before any write, naming the options; `trust budget` reports the size IAM counts; once the account's
// quota is raised to 4,096 (as IAM reports it), the same link goes through without --trust-size-limit.
func TestTrustQuotaLinkRefusedThenRaised(t *testing.T) {
	ns, role := "quota-link", "quota-full-role"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "one-more", nil)
	mustSucceed(t, irsaCmd(t, "provider", "create"))
	nearlyFullRole(t, role, ns, "one-more")
	sb.SetTrustSizeQuota(sandbox.Account, 0)
	t.Cleanup(func() { sb.SetTrustSizeQuota(sandbox.Account, 0) })

	rep := budgetOf(t, role)
	if len(rep.Roles) != 1 {
		t.Fatalf("roles %+v", rep.Roles)
	}
	b := rep.Roles[0]
	if want := iamSize(t, role); b.Size != want || b.Quota != 2048 || rep.QuotaSource != "account" || b.Headroom != 2048-want {
		t.Errorf("budget size %d quota %d (%s) headroom %d, want size %d (the document's non-whitespace characters) of 2048 from the account", b.Size, b.Quota, rep.QuotaSource, b.Headroom, want)
	}
	if len(b.Providers) != 1 || !b.Providers[0].ThisCluster || b.Envelope+b.Providers[0].Size+b.PodIdentity+b.Foreign != b.Size {
		t.Errorf("breakdown %+v", b)
	}
	if b.ServiceAccountsThatFit == nil || *b.ServiceAccountsThatFit != 0 || b.ClustersThatFit == nil || *b.ClustersThatFit != 0 {
		t.Errorf("headroom: %v ServiceAccounts, %v clusters, want 0 and 0", b.ServiceAccountsThatFit, b.ClustersThatFit)
	}

	before := iamSize(t, role)
	counter.Reset()
	r := irsaCmd(t, "link", "one-more", "-n", ns, "--role-name", role)
	if r.code != 1 {
		t.Fatalf("link over the quota: want exit 1, got %s", r)
	}
	for _, want := range []string{"over the account's quota of 2048", "nothing was written", "request a quota increase", "Role trust policy length", "EKS Pod Identity", "split the role", "--trust-size-limit"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("refused link wrote %v", w)
	}
	if got := roleAnnotation(t, ns, "one-more"); got != "" {
		t.Errorf("annotation written: %q", got)
	}
	if iamSize(t, role) != before {
		t.Error("trust changed")
	}

	sb.SetTrustSizeQuota(sandbox.Account, 4096)
	r = mustSucceed(t, irsaCmd(t, "link", "one-more", "-n", ns, "--role-name", role))
	if d := roleTrust(t, role); !slices.Contains(d.Subjects(provider()), trust.Subject(ns, "one-more")) {
		t.Errorf("trust does not admit the new ServiceAccount: %s", d)
	}
	rep = budgetOf(t, role)
	if b := rep.Roles[0]; b.Quota != 4096 || b.Size != iamSize(t, role) || b.Size <= 2048 || b.ServiceAccountsThatFit == nil || *b.ServiceAccountsThatFit < 40 {
		t.Errorf("after the increase: %+v", b)
	}
	all := budgetOf(t, "-A")
	found := false
	for _, rb := range all.Roles {
		found = found || rb.Name == role
	}
	if !found || all.Providers.Count < 1 || all.Providers.Quota != 100 {
		t.Errorf("-A: role listed %v, providers %+v", found, all.Providers)
	}
}
