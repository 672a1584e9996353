package iac

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

var role = Role{
	Name:             "irsa-role",
	TrustPolicy:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com","oidc.eks.us-east-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:irsa-sample-ns:irsa-test"}}}]}`,
	Policy:           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["eks:ListClusters"],"Resource":"*"}]}`,
	PolicyName:       "kubectl-irsa",
	AttachPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
	Tags:             map[string]string{"kubectl-irsa.io/managed-by": "kubectl-irsa", "kubectl-irsa.io/issuer": "oidc.eks.us-east-1.amazonaws.com/id/ABC"},
	Comment:          "IRSA role irsa-role",
}

func TestTerraform(t *testing.T) {
	out, err := Terraform(role)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`resource "aws_iam_role" "irsa_role"`, `"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"`,
		`resource "aws_iam_role_policy" "irsa_role_kubectl_irsa"`, `policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"`, `output "irsa_role_arn"`} {
		if !strings.Contains(out, want) {
			t.Errorf("terraform lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"Federated": "https://`) {
		t.Error("issuer URL used as principal")
	}
	terraform, err := exec.LookPath("terraform")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("terraform is not on PATH: CI checks the output with terraform fmt")
		}
		t.Skip("terraform not installed: terraform fmt check skipped")
	}
	cmd := exec.Command(terraform, "fmt", "-check", "-diff", "-")
	cmd.Stdin = strings.NewReader(out)
	var diff bytes.Buffer
	cmd.Stdout, cmd.Stderr = &diff, &diff
	if err := cmd.Run(); err != nil {
		t.Errorf("terraform fmt -check: %v\n%s\n%s", err, diff.String(), out)
	}
	// Without the optional parts.
	bare := role
	bare.Policy, bare.AttachPolicyARNs, bare.Tags = "", nil, nil
	out, _ = Terraform(bare)
	cmd = exec.Command(terraform, "fmt", "-check", "-")
	cmd.Stdin = strings.NewReader(out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("bare role: terraform fmt -check: %v %s\n%s", err, b, out)
	}
}

func TestCloudFormation(t *testing.T) {
	out, err := CloudFormation(role)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := yaml.Unmarshal([]byte(out), &tmpl); err != nil {
		t.Fatal(err)
	}
	r := tmpl.Resources["IrsaRole"]
	if r.Type != "AWS::IAM::Role" || r.Properties["RoleName"] != "irsa-role" || r.Properties["AssumeRolePolicyDocument"] == nil || r.Properties["Policies"] == nil || r.Properties["ManagedPolicyArns"] == nil {
		t.Errorf("template:\n%s", out)
	}
}

// TestCloudFormationYAML11Names: IAM allows a role named "=" or "on"; the template writes it quoted, so a YAML
// 1.1 reader (PyYAML, cfn-lint) reads the name and not the value tag or a bool.
func TestCloudFormationYAML11Names(t *testing.T) {
	for _, name := range []string{"=", "on", "No"} {
		out, err := CloudFormation(Role{Name: name, TrustPolicy: `{"Version":"2012-10-17","Statement":[]}`})
		if err != nil || !strings.Contains(out, `RoleName: "`+name+`"`+"\n") {
			t.Errorf("%q: %v\n%s", name, err, out)
		}
	}
}
