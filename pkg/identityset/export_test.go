package identityset

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/yamlout"
)

const account = "123456789012"

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// exportFixture is live state with every shape export must write: grouping, allow and policy, name, path and
// ARN, both mechanisms with Pod Identity options, managed policies and an administrator grant.
func exportFixture() []Live {
	managed := []string{"arn:aws:iam::aws:policy/B", "arn:aws:iam::aws:policy/A"}
	return []Live{
		{Namespace: "shop", Name: "worker", RoleARN: "arn:aws:iam::123456789012:role/k8s/shop", Mechanism: "irsa", ManagedPolicies: managed,
			Statements: []json.RawMessage{raw(`{"Sid":"KubectlIrsaShopWorkerabcdef01","Effect":"Allow","Action":["sqs:SendMessage","s3:GetObject","s3:GetObject"],"Resource":"*"}`)}},
		{Namespace: "shop", Name: "api", RoleARN: "arn:aws:iam::123456789012:role/k8s/shop", Mechanism: "irsa", ManagedPolicies: managed,
			Statements: []json.RawMessage{raw(`{"Sid":"KubectlIrsaShopApi12345678","Effect":"Allow","Action":["s3:GetObject","sqs:SendMessage"],"Resource":["*"]}`)}},
		{Namespace: "shop", Name: "reports", RoleARN: "arn:aws:iam::123456789012:role/k8s/shop", Mechanism: "irsa", ManagedPolicies: managed,
			Statements: []json.RawMessage{raw(`{"Sid":"KubectlIrsaShopReports1","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10}}}`)}},
		{Namespace: "shop", Name: "plain", RoleARN: "arn:aws:iam::123456789012:role/plain", Mechanism: "both", PodIdentity: &PodIdentity{DisableSessionTags: true}},
		{Namespace: "ops", Name: "admin", RoleARN: "arn:aws:iam::123456789012:role/plain", Mechanism: "both", PodIdentity: &PodIdentity{DisableSessionTags: true},
			Statements: []json.RawMessage{raw(`{"Sid":"KubectlIrsaOpsAdmin1","Effect":"Allow","Action":"*","Resource":"*"}`)}},
		{Namespace: "data", Name: "reader", RoleARN: "arn:aws:iam::222222222222:role/team/reader", Mechanism: "irsa"},
		{Namespace: "shop", Name: "upper", RoleARN: "arn:aws:iam::123456789012:role/upper", Mechanism: "irsa",
			Statements: []json.RawMessage{raw(`{"Sid":"KubectlIrsaShopUpper1","Effect":"Allow","Action":"S3:GetObject","Resource":"*"}`)}},
	}
}

func TestExport(t *testing.T) {
	set, err := Export("adopted", account, exportFixture())
	if err != nil {
		t.Fatal(err)
	}
	want := []Role{
		{Name: "shop", Path: "/k8s/", ServiceAccounts: []string{"shop/api", "shop/worker"}, Allow: []string{"s3:GetObject", "sqs:SendMessage"},
			ManagedPolicies: []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"}},
		{Name: "shop", Path: "/k8s/", ServiceAccounts: []string{"shop/reports"}, ManagedPolicies: []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"},
			Policy: []Statement{{Effect: "Allow", Action: StringList{"s3:GetObject"}, Resource: StringList{"arn:aws:s3:::reports/*"},
				Condition: map[string]any{"Bool": map[string]any{"aws:SecureTransport": true}, "NumericLessThan": map[string]any{"s3:max-keys": json.Number("10")}}}}},
		{Name: "plain", Mechanism: "both", ServiceAccounts: []string{"ops/admin"}, PodIdentity: &PodIdentity{DisableSessionTags: true}, Allow: []string{"*"}, AllowAdmin: true},
		{Name: "plain", Mechanism: "both", ServiceAccounts: []string{"shop/plain"}, PodIdentity: &PodIdentity{DisableSessionTags: true}},
		{Name: "upper", ServiceAccounts: []string{"shop/upper"}, Policy: []Statement{{Effect: "Allow", Action: StringList{"S3:GetObject"}, Resource: StringList{"*"}}}},
		{ARN: "arn:aws:iam::222222222222:role/team/reader", ServiceAccounts: []string{"data/reader"}},
	}
	if !reflect.DeepEqual(set.Spec.Roles, want) {
		got, _ := json.MarshalIndent(set.Spec.Roles, "", " ")
		t.Errorf("roles:\n%s", got)
	}
	if set.APIVersion != APIVersion || set.Kind != Kind || set.Metadata.Name != "adopted" {
		t.Errorf("header = %+v", set)
	}
}

// TestExportRoundTrip: what export writes (as YAML and as JSON) is valid input for Load, and reads back as the
// same set.
func TestExportRoundTrip(t *testing.T) {
	set, err := Export("adopted", account, exportFixture())
	if err != nil {
		t.Fatal(err)
	}
	y, err := yamlout.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"set.yaml": y, "set.json": j} {
		file := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		docs, err := Load([]string{file}, nil)
		if err != nil {
			t.Fatalf("%s does not load: %v\n%s", name, err, data)
		}
		back, _ := json.Marshal(docs[0].Set)
		orig, _ := json.Marshal(set)
		if string(back) != string(orig) {
			t.Errorf("%s reads back as\n%s\nwant\n%s", name, back, orig)
		}
	}
	// The schema accepts it too.
	for _, d := range yamlDocuments(t, string(y)) {
		if err := compiledSchema(t).Validate(d); err != nil {
			t.Errorf("the schema refuses the export: %v", err)
		}
	}
}

func TestExportRefuses(t *testing.T) {
	tests := map[string]struct {
		live []Live
		want string
	}{
		"two roles": {[]Live{
			{Namespace: "a", Name: "b", RoleARN: "arn:aws:iam::123456789012:role/x", Mechanism: "irsa"},
			{Namespace: "a", Name: "b", RoleARN: "arn:aws:iam::123456789012:role/y", Mechanism: "pod-identity"},
		}, "a/b has two roles"},
		"principal": {[]Live{{Namespace: "a", Name: "b", RoleARN: "arn:aws:iam::123456789012:role/x", Mechanism: "irsa",
			Statements: []json.RawMessage{raw(`{"Sid":"S","Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`)}}}, `a/b: its statement 1 has a field "Principal"`},
		"mixed mechanisms": {[]Live{
			{Namespace: "a", Name: "b", RoleARN: "arn:aws:iam::123456789012:role/x", Mechanism: "irsa"},
			{Namespace: "a", Name: "c", RoleARN: "arn:aws:iam::123456789012:role/x", Mechanism: "pod-identity"},
		}, "role x is used by a/b (irsa) and a/c (pod-identity)"},
		"not a role ARN": {[]Live{{Namespace: "a", Name: "b", RoleARN: "(pod identity a-1)", Mechanism: "pod-identity"}}, "a/b: invalid role ARN"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Export("s", account, tt.live)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
