package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
)

// TestList shows linked ServiceAccounts and their roles, and leaves out those without one.
func TestList(t *testing.T) {
	ns := "fleet-list"
	createNamespace(t, ns)
	createServiceAccount(t, ns, "linked", nil)
	createServiceAccount(t, ns, "plain", nil)
	createServiceAccount(t, ns, "ghost", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/does-not-exist"})
	mustSucceed(t, irsaCmd(t, "link", "linked", "-n", ns, "--role-name", "fleet-list-role"))

	// The ghost's role does not exist: list exits 1 and names the row on stderr; stdout is the full result.
	r := irsaCmd(t, "list", "-n", ns, "-o", "json")
	if r.code != 1 || !strings.Contains(r.stderr, "1 of 2 rows show a problem: "+ns+"/ghost (role does-not-exist does not exist)") {
		t.Errorf("list with a missing role: %s", r)
	}
	var res inspect.ListResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	rows := map[string]inspect.ListItem{}
	for _, it := range res.Items {
		rows[it.ServiceAccount] = it
	}
	if _, ok := rows["plain"]; ok || len(rows) != 2 {
		t.Errorf("rows = %+v", res.Items)
	}
	if l := rows["linked"]; l.RoleName != "fleet-list-role" || l.RoleExists != "yes" || l.TrustAdmits != "yes" {
		t.Errorf("linked row = %+v", l)
	}
	if g := rows["ghost"]; g.RoleExists != "no" || g.TrustAdmits != "no" {
		t.Errorf("ghost row = %+v", g)
	}
	r = irsaCmd(t, "list", "-n", ns, "-o", "wide")
	if r.code != 1 || !strings.Contains(r.stdout, "ROLE ARN") || !strings.Contains(r.stdout, "arn:aws:iam::"+account+":role/fleet-list-role") {
		t.Errorf("wide output: %s", r)
	}
	if r = irsaCmd(t, "list", "-n", ns, "-o", "name"); r.code != 1 || r.stdout != "serviceaccount/ghost\nserviceaccount/linked\n" {
		t.Errorf("-o name: %s", r)
	}
	// Once the role exists and trusts the ServiceAccount, every row is fine: exit 0.
	mustSucceed(t, irsaCmd(t, "link", "ghost", "-n", ns, "--role-name", "does-not-exist"))
	if r = irsaCmd(t, "list", "-n", ns); r.code != 0 || r.stderr != "" {
		t.Errorf("clean list: %s", r)
	}
}

// TestAudit flags a cluster-wide StringLike trust, a missing aud and a dangling subject, and exits 1.
func TestAudit(t *testing.T) {
	ns := "fleet-audit"
	createNamespace(t, ns)
	hp := provider().HostPath
	fed := `"Principal":{"Federated":"` + provider().ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity"`
	create := func(name, condition string) {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` + fed + `,"Condition":` + condition + `}]}`
		if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	create("audit-wildcard", `{"StringLike":{"`+hp+`:sub":"system:serviceaccount:*"},"StringEquals":{"`+hp+`:aud":"sts.amazonaws.com"}}`)
	create("audit-noaud", `{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:`+ns+`:app"}}`)
	create("audit-dangling", `{"StringEquals":{"`+hp+`:sub":"system:serviceaccount:`+ns+`:not-created-yet","`+hp+`:aud":"sts.amazonaws.com"}}`)
	createServiceAccount(t, ns, "app", map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + account + ":role/audit-noaud"})

	counter.Reset()
	r := irsaCmd(t, "audit", "-A", "-o", "json")
	if r.code != 1 {
		t.Errorf("exit %d, want 1: %s", r.code, r)
	}
	if w := counter.Writes(); len(w) != 0 {
		t.Errorf("audit wrote %v", w)
	}
	var rep inspect.AuditReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"WildcardSubject": "role/audit-wildcard", "MissingAudience": "role/audit-noaud", "DanglingSubject": "role/audit-dangling"}
	for id, target := range want {
		found := false
		for _, f := range rep.Findings {
			if f.ID == id && f.Target == target {
				found = true
				if id == "WildcardSubject" && f.Severity != "high" {
					t.Errorf("cluster-wide wildcard is %s, want high", f.Severity)
				}
			}
		}
		if !found {
			t.Errorf("missing %s on %s: %+v", id, target, rep.Findings)
		}
	}
}

// TestListRequestCounts: a constant number of Kubernetes requests, and one AWS read per distinct role.
func TestListRequestCounts(t *testing.T) {
	ns := "fleet-count"
	createNamespace(t, ns)
	for i := 0; i < 3; i++ {
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider().ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + provider().HostPath + `:sub":"system:serviceaccount:fleet-count:*"}}}]}`
		if _, err := iamClient.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("fleet-count-%d", i)), AssumeRolePolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 30; i++ {
		createServiceAccount(t, ns, fmt.Sprintf("sa-%02d", i), map[string]string{iamref.RoleARNAnnotation: fmt.Sprintf("arn:aws:iam::%s:role/fleet-count-%d", account, i%3)})
	}
	counter.Reset()
	// Other tests' rows may show problems (exit 1); only a list that could not complete fails here.
	r := irsaCmd(t, "list", "-A", "-o", "json", "-v=6")
	if r.code == 2 {
		t.Fatalf("list -A could not complete: %s", r)
	}
	kubeRequests := strings.Count(r.stderr, `"Response" verb=`)
	var res inspect.ListResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	roles := map[string]bool{}
	for _, it := range res.Items {
		roles[it.RoleARN] = true
	}
	calls := counter.Calls()
	t.Logf("list -A: %d ServiceAccounts, %d roles, %d Kubernetes requests, %d AWS calls", len(res.Items), len(roles), kubeRequests, len(calls))
	if len(res.Items) < 30 || len(roles) < 3 {
		t.Fatalf("list -A misses the fleet: %d items", len(res.Items))
	}
	if kubeRequests > 10 {
		t.Errorf("%d Kubernetes requests, want at most 10", kubeRequests)
	}
	// One GetRole per distinct role, one provider read, one Pod Identity list, and at most one
	// sts:GetCallerIdentity: other tests leave annotations naming a missing role or one in another account, and
	// telling those apart needs the caller's account once.
	if len(calls) > len(roles)+3 {
		t.Errorf("%d AWS calls for %d distinct roles: %v", len(calls), len(roles), calls)
	}
}
