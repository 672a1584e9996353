package irsa

import (
	"strings"
	"testing"
)

func TestDefaultRoleName(t *testing.T) {
	if got := DefaultRoleName("prod", "irsa-sample-ns", "irsa-test"); got != "irsa-prod-irsa-sample-ns-irsa-test" {
		t.Errorf("short name = %s", got)
	}
	long1 := DefaultRoleName("a-very-long-cluster-name", "a-very-long-namespace-name", "service-account-one")
	long2 := DefaultRoleName("a-very-long-cluster-name", "a-very-long-namespace-name", "service-account-two")
	if len(long1) > MaxRoleNameLength || len(long2) > MaxRoleNameLength || long1 == long2 {
		t.Errorf("long names %q (%d) and %q (%d)", long1, len(long1), long2, len(long2))
	}
	if ValidateRoleName(long1) != nil {
		t.Errorf("derived name %q invalid", long1)
	}
}

func TestParseRoleARN(t *testing.T) {
	good := map[string]string{
		"arn:aws:iam::123456789012:role/irsa-role":          "irsa-role",
		"arn:aws:iam::123456789012:role/team/app/irsa-role": "irsa-role",
		"arn:aws-cn:iam::123456789012:role/x":               "x",
	}
	for s, name := range good {
		r, err := ParseRoleARN(s)
		if err != nil || r.Name != name || r.Account != "123456789012" {
			t.Errorf("ParseRoleARN(%s) = %+v, %v", s, r, err)
		}
	}
	for _, s := range []string{"", "arn:aws:iam::::role", "arn:aws:iam::12345:role/x", "arn:aws:s3:::bucket", "arn:aws:iam::123456789012:user/x", "arn:aws:iam::123456789012:role/" + strings.Repeat("x", 65), "irsa-role"} {
		if _, err := ParseRoleARN(s); err == nil {
			t.Errorf("ParseRoleARN(%q) accepted", s)
		}
	}
}

func TestParseActionsAndPolicy(t *testing.T) {
	if acts, err := ParseActions([]string{"eks:ListClusters", " s3:Get*", ""}); err != nil || len(acts) != 2 {
		t.Errorf("ParseActions = %v, %v", acts, err)
	}
	for _, bad := range []string{"ListClusters", "eks:", "eks:List Clusters", ":x", "EKS:ListClusters"} {
		if _, err := ParseActions([]string{bad}); err == nil {
			t.Errorf("ParseActions(%q) accepted", bad)
		}
	}
	doc, err := PermissionsPolicy([]string{"eks:ListClusters"}, nil)
	if err != nil || doc != `{"Statement":[{"Action":["eks:ListClusters"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}` {
		t.Errorf("policy = %s, %v", doc, err)
	}
	if _, err := PermissionsPolicy([]string{"a:b"}, []byte(`{}`)); err == nil {
		t.Error("--allow with --policy-file accepted")
	}
	if _, err := PermissionsPolicy(nil, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}`)); err == nil {
		t.Error("policy file without Action accepted")
	}
	a, _ := NormalizePolicy(`{"Version": "2012-10-17", "Statement": [{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	b, _ := NormalizePolicy(`%7B%22Statement%22%3A%5B%7B%22Resource%22%3A%22%2A%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Effect%22%3A%22Allow%22%7D%5D%2C%22Version%22%3A%222012-10-17%22%7D`)
	if a != b {
		t.Errorf("normalised policies differ:\n%s\n%s", a, b)
	}
	for _, bad := range []string{"arn:aws:iam::aws:policy", "ReadOnlyAccess", "arn:aws:s3:::x"} {
		if ValidatePolicyARN(bad) == nil {
			t.Errorf("ValidatePolicyARN(%q) accepted", bad)
		}
	}
	if ValidatePolicyARN("arn:aws:iam::aws:policy/ReadOnlyAccess") != nil {
		t.Error("AWS managed policy ARN refused")
	}
}
