package iamref

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRole(t *testing.T) {
	good := map[string]Role{
		"arn:aws:iam::123456789012:role/irsa-role":          {Partition: "aws", Account: "123456789012", Path: "/", Name: "irsa-role"},
		"arn:aws:iam::123456789012:role/team/app":           {Partition: "aws", Account: "123456789012", Path: "/team/", Name: "app"},
		"arn:aws:iam::123456789012:role/a/b~!/irsa-role":    {Partition: "aws", Account: "123456789012", Path: "/a/b~!/", Name: "irsa-role"},
		"arn:aws-cn:iam::123456789012:role/x":               {Partition: "aws-cn", Account: "123456789012", Path: "/", Name: "x"},
		"arn:aws-us-gov:iam::123456789012:role/svc/role@co": {Partition: "aws-us-gov", Account: "123456789012", Path: "/svc/", Name: "role@co"},
	}
	for s, want := range good {
		want.ARN = s
		if r, err := ParseRole(s); err != nil || r != want {
			t.Errorf("ParseRole(%s) = %+v, %v; want %+v", s, r, err, want)
		}
	}
	for _, s := range []string{"", "irsa-role", "arn:aws:iam::::role", "arn:aws:iam::12345:role/x", "arn:aws:s3:::bucket",
		"arn:aws:iam::123456789012:user/x", "arn:aws:iam::123456789012:role/" + strings.Repeat("x", 65), "arn:aws:iam:us-east-1:123456789012:role/x",
		"arn:aws:iam::123456789012:role/team//x", "arn:aws:iam::123456789012:role/te am/x", "arn:aws:iam::123456789012:role/", "arn:azure:iam::123456789012:role/x"} {
		_, err := ParseRole(s)
		var invalid *InvalidError
		if !errors.As(err, &invalid) || strings.Contains(err.Error(), "--") {
			t.Errorf("ParseRole(%q) = %v", s, err)
		}
	}
	if got := RoleARN("aws", "123456789012", "/team/", "app"); got != "arn:aws:iam::123456789012:role/team/app" {
		t.Errorf("RoleARN = %s", got)
	}
}

func TestParsePolicyAndProvider(t *testing.T) {
	for _, s := range []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/service-role/AmazonEKSClusterPolicy", "arn:aws:iam::123456789012:policy/mine"} {
		if _, err := ParsePolicy(s); err != nil {
			t.Errorf("ParsePolicy(%s): %v", s, err)
		}
	}
	p, _ := ParsePolicy("arn:aws:iam::aws:policy/service-role/AmazonEKSClusterPolicy")
	if p.Path != "/service-role/" || p.Name != "AmazonEKSClusterPolicy" || p.Account != "aws" {
		t.Errorf("policy = %+v", p)
	}
	for _, s := range []string{"arn:aws:iam::aws:policy", "ReadOnlyAccess", "arn:aws:s3:::x", "arn:aws:iam::12:policy/x", "arn:aws:iam::aws:role/x"} {
		if _, err := ParsePolicy(s); err == nil {
			t.Errorf("ParsePolicy(%q) accepted", s)
		}
	}
	arn := OIDCProviderARN("aws", "123456789012", "oidc.eks.us-east-1.amazonaws.com/id/X")
	if pr, err := ParseOIDCProvider(arn); err != nil || pr.HostPath != "oidc.eks.us-east-1.amazonaws.com/id/X" || pr.Account != "123456789012" {
		t.Errorf("ParseOIDCProvider(%s) = %+v, %v", arn, pr, err)
	}
	if _, err := ParseOIDCProvider("arn:aws:iam::123456789012:role/x"); err == nil {
		t.Error("role ARN accepted as provider")
	}
}

func TestDecodePolicyDocument(t *testing.T) {
	plain := `{"Statement":[{"Action":"s3:Get+Object%"}]}`
	if got, err := DecodePolicyDocument(plain); err != nil || got != plain {
		t.Errorf("plain document changed: %q %v", got, err)
	}
	if got, err := DecodePolicyDocument(" %7B%22a%22%3A%22b+c%22%7D"); err != nil || got != `{"a":"b c"}` {
		t.Errorf("encoded = %q %v", got, err)
	}
	if _, err := DecodePolicyDocument("%zz"); err == nil {
		t.Error("bad encoding accepted")
	}
}

func TestAudience(t *testing.T) {
	if Audience(nil) != DefaultAudience || Audience(map[string]string{AudienceAnnotation: " custom "}) != "custom" {
		t.Error("audience")
	}
}
