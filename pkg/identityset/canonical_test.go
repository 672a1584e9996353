package identityset

import (
	"encoding/json"
	"testing"
)

func TestCanonicalStatement(t *testing.T) {
	same := [][2]string{
		{`{"Sid":"KubectlIrsaA","Effect":"Allow","Action":["sqs:SendMessage","s3:GetObject"],"Resource":"*"}`, `{"Effect":"Allow","Action":["s3:GetObject","sqs:SendMessage","s3:GetObject"],"Resource":["*"]}`},
		{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}`, `{"Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":true}},"Action":["s3:GetObject"],"Effect":"Allow"}`},
	}
	for _, p := range same {
		a, errA := CanonicalStatement(json.RawMessage(p[0]))
		b, errB := CanonicalStatement(json.RawMessage(p[1]))
		if errA != nil || errB != nil || a != b {
			t.Errorf("%s\n%s\ndiffer: %s %s %v %v", p[0], p[1], a, b, errA, errB)
		}
	}
	differ := [][2]string{
		{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`, `{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`},
		{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}`, `{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`},
		{`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`, `{"Effect":"Allow","NotAction":"s3:GetObject","Resource":"*"}`},
	}
	for _, p := range differ {
		a, _ := CanonicalStatement(json.RawMessage(p[0]))
		b, _ := CanonicalStatement(json.RawMessage(p[1]))
		if a == b {
			t.Errorf("%s and %s read the same: %s", p[0], p[1], a)
		}
	}
	for _, bad := range []string{`[`, `{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`} {
		if _, err := CanonicalStatement(json.RawMessage(bad)); err == nil {
			t.Errorf("no error for %s", bad)
		}
	}
}
