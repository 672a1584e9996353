package setup

import (
	"net/url"
	"strings"
	"testing"
)

func TestServiceAccountStatements(t *testing.T) {
	own, other := PolicySid("shop", "api"), PolicySid("shop", "worker")
	doc := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"` + own + `","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},` +
		`{"Sid":"` + other + `","Effect":"Allow","Action":"sqs:*","Resource":"*"},` +
		`{"Sid":"Hand","Effect":"Allow","Action":"ec2:*","Resource":"*"},` +
		`{"Sid":"` + own + `Part2","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`
	got, err := ServiceAccountStatements(url.QueryEscape(doc), "shop", "api")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.Contains(string(got[0]), "s3:GetObject") || !strings.Contains(string(got[1]), own+"Part2") {
		t.Errorf("statements = %s", got)
	}
	if _, err := ServiceAccountStatements("{", "shop", "api"); err == nil {
		t.Error("a broken document is no error")
	}
}
