package doctor

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

func TestAuditRoleRules(t *testing.T) {
	hp := prov.HostPath
	stmt := func(cond string) string {
		return `{"Effect":"Allow","Principal":{"Federated":"` + prov.ARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":` + cond + `}`
	}
	doc := func(stmts ...string) *trust.Document {
		d, err := trust.Parse(`{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	exact := stmt(`{"StringEquals":{"` + hp + `:sub":"system:serviceaccount:a:b","` + hp + `:aud":"sts.amazonaws.com"}}`)
	usedWith := func(statement string) AuditRole {
		return AuditRole{Name: "r", Trust: doc(exact), UsedBy: []string{"a/b"}, Policies: []string{`{"Version":"2012-10-17","Statement":[` + statement + `]}`}}
	}
	existing := map[string]bool{"a/b": true}
	all := func(string) bool { return true }
	tests := []struct {
		name string
		role AuditRole
		want map[string]Severity
	}{
		{"exact trust is clean", AuditRole{Name: "r", Trust: doc(exact)}, nil},
		{"cluster-wide wildcard", AuditRole{Name: "r", Trust: doc(stmt(`{"StringLike":{"` + hp + `:sub":"system:serviceaccount:*"},"StringEquals":{"` + hp + `:aud":"sts.amazonaws.com"}}`))}, map[string]Severity{WildcardSubject: High}},
		{"namespace wildcard", AuditRole{Name: "r", Trust: doc(stmt(`{"StringLike":{"` + hp + `:sub":"system:serviceaccount:a:*","` + hp + `:aud":"sts.amazonaws.com"}}`))}, map[string]Severity{WildcardSubject: Medium}},
		{"missing aud", AuditRole{Name: "r", Trust: doc(stmt(`{"StringEquals":{"` + hp + `:sub":"system:serviceaccount:a:b"}}`))}, map[string]Severity{MissingAudience: Medium}},
		{"missing sub", AuditRole{Name: "r", Trust: doc(stmt(`{"StringEquals":{"` + hp + `:aud":"sts.amazonaws.com"}}`))}, map[string]Severity{MissingSubject: High}},
		{"dangling subject", AuditRole{Name: "r", Trust: doc(stmt(`{"StringEquals":{"` + hp + `:sub":"system:serviceaccount:a:ghost","` + hp + `:aud":"sts.amazonaws.com"}}`))}, map[string]Severity{DanglingSubject: Medium}},
		{"issuer URL principal", AuditRole{Name: "r", Trust: doc(`{"Effect":"Allow","Principal":{"Federated":"` + issuer + `"},"Action":"sts:AssumeRoleWithWebIdentity"}`)}, map[string]Severity{ForeignPrincipal: Medium}},
		{"two clusters", AuditRole{Name: "r", Trust: doc(exact, `{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER"},"Action":"sts:AssumeRoleWithWebIdentity"}`)}, map[string]Severity{MultiClusterTrust: Low}},
		{"admin on a used role", AuditRole{Name: "r", Trust: doc(exact), UsedBy: []string{"a/b"}, AttachedNames: []string{"AdministratorAccess"}}, map[string]Severity{AdminPermissions: High}},
		{"negated sub admits every other ServiceAccount", AuditRole{Name: "r", Trust: doc(stmt(`{"StringNotEquals":{"` + hp + `:sub":"system:serviceaccount:kube-system:x"},"StringEquals":{"` + hp + `:aud":"sts.amazonaws.com"}}`))}, map[string]Severity{NegatedSubject: High}},
		{"negated StringNotLike sub is not a wildcard grant", AuditRole{Name: "r", Trust: doc(stmt(`{"StringNotLike":{"` + hp + `:sub":"system:serviceaccount:kube-system:*"},"StringEquals":{"` + hp + `:aud":"sts.amazonaws.com"}}`))}, map[string]Severity{NegatedSubject: High}},
		{"negated sub in a Deny is fine", AuditRole{Name: "r", Trust: doc(exact, `{"Effect":"Deny","Principal":{"Federated":"`+prov.ARN+`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringNotEquals":{"`+hp+`:sub":"system:serviceaccount:a:b"}}}`)}, nil},
		{"Pod Identity without TagSession", AuditRole{Name: "r", Trust: doc(`{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}`)}, map[string]Severity{PodIdentityNoTagSession: Medium}},
		{"Pod Identity as the EKS guide writes it", AuditRole{Name: "r", Trust: doc(`{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"a"}}}`)}, nil},
		{"star colon star on a used role", usedWith(`{"Effect":"Allow","Action":"*:*","Resource":"*"}`), map[string]Severity{AdminPermissions: High}},
		{"iam star on a used role", usedWith(`{"Effect":"Allow","Action":"iam:*","Resource":"*"}`), map[string]Severity{AdminPermissions: High}},
		{"sts star on a used role", usedWith(`{"Effect":"Allow","Action":"sts:*","Resource":"*"}`), map[string]Severity{AdminPermissions: High}},
		{"organizations star on a used role", usedWith(`{"Effect":"Allow","Action":"organizations:*","Resource":"*"}`), map[string]Severity{AdminPermissions: High}},
		{"NotAction on star on a used role", usedWith(`{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}`), map[string]Severity{AdminPermissions: High}},
		{"iam read-only on a used role is fine", usedWith(`{"Effect":"Allow","Action":["iam:Get*","iam:List*","s3:*"],"Resource":"*"}`), nil},
		{"IAMFullAccess on a used role", AuditRole{Name: "r", Trust: doc(exact), UsedBy: []string{"a/b"}, AttachedNames: []string{"IAMFullAccess"}}, map[string]Severity{AdminPermissions: High}},
		{"star action on a used role", AuditRole{Name: "r", Trust: doc(exact), UsedBy: []string{"a/b"}, Policies: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}, map[string]Severity{AdminPermissions: High}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AuditRoleRules(tt.role, prov, issuer, existing, all)
			if len(got) != len(tt.want) {
				t.Errorf("findings = %+v, want %v", got, tt.want)
			}
			for id, sev := range tt.want {
				f := find(got, id)
				if f == nil || f.Severity != sev {
					t.Errorf("want %s %s, got %+v", sev, id, got)
				}
			}
		})
	}
}
