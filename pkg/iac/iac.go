// Package iac renders an IRSA role as infrastructure code (Terraform, CloudFormation) for teams that manage IAM
// in code. It does no IO.
package iac

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/yamlout"
)

// Role is what the rendered code creates.
type Role struct {
	Name string
	// TrustPolicy and Policy are JSON documents; Policy may be empty.
	TrustPolicy      string
	Policy           string
	PolicyName       string
	AttachPolicyARNs []string
	Tags             map[string]string
	// Comment is a line put at the top (without comment markers).
	Comment string
}

var nonIdent = regexp.MustCompile(`[^A-Za-z0-9_]`)

// identifier turns a role name into a Terraform resource name.
func identifier(name string) string {
	id := nonIdent.ReplaceAllString(name, "_")
	if id == "" || (id[0] >= '0' && id[0] <= '9') {
		id = "role_" + id
	}
	return id
}

// Terraform renders aws_iam_role, aws_iam_role_policy and aws_iam_role_policy_attachment resources, laid out
// as `terraform fmt` lays them out.
func Terraform(r Role) (string, error) {
	id := identifier(r.Name)
	var b strings.Builder
	if r.Comment != "" {
		fmt.Fprintf(&b, "# %s\n\n", r.Comment)
	}
	trust, err := indentJSON(r.TrustPolicy, "    ")
	if err != nil {
		return "", fmt.Errorf("trust policy: %w", err)
	}
	fmt.Fprintf(&b, "resource \"aws_iam_role\" %q {\n", id)
	fmt.Fprintf(&b, "  name               = %q\n", r.Name)
	fmt.Fprintf(&b, "  assume_role_policy = <<-EOT\n%s\n  EOT\n", trust)
	if len(r.Tags) > 0 {
		b.WriteString("\n  tags = {\n")
		keys := sortedKeys(r.Tags)
		width := 0
		for _, k := range keys {
			width = max(width, len(fmt.Sprintf("%q", k)))
		}
		for _, k := range keys {
			fmt.Fprintf(&b, "    %-*s = %q\n", width, fmt.Sprintf("%q", k), r.Tags[k])
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	if r.Policy != "" {
		policy, err := indentJSON(r.Policy, "    ")
		if err != nil {
			return "", fmt.Errorf("policy: %w", err)
		}
		fmt.Fprintf(&b, "\nresource \"aws_iam_role_policy\" %q {\n", id+"_"+identifier(r.PolicyName))
		fmt.Fprintf(&b, "  name   = %q\n", r.PolicyName)
		fmt.Fprintf(&b, "  role   = aws_iam_role.%s.id\n", id)
		fmt.Fprintf(&b, "  policy = <<-EOT\n%s\n  EOT\n}\n", policy)
	}
	for i, arn := range r.AttachPolicyARNs {
		fmt.Fprintf(&b, "\nresource \"aws_iam_role_policy_attachment\" \"%s_%d\" {\n", id, i)
		fmt.Fprintf(&b, "  role       = aws_iam_role.%s.name\n", id)
		fmt.Fprintf(&b, "  policy_arn = %q\n}\n", arn)
	}
	fmt.Fprintf(&b, "\noutput %q {\n  value = aws_iam_role.%s.arn\n}\n", id+"_arn", id)
	return b.String(), nil
}

// CloudFormation renders a template with one AWS::IAM::Role, as YAML.
func CloudFormation(r Role) (string, error) {
	var trust any
	if err := json.Unmarshal([]byte(r.TrustPolicy), &trust); err != nil {
		return "", fmt.Errorf("trust policy: %w", err)
	}
	props := map[string]any{
		"RoleName":                 r.Name,
		"AssumeRolePolicyDocument": trust,
	}
	if r.Policy != "" {
		var policy any
		if err := json.Unmarshal([]byte(r.Policy), &policy); err != nil {
			return "", fmt.Errorf("policy: %w", err)
		}
		props["Policies"] = []any{map[string]any{"PolicyName": r.PolicyName, "PolicyDocument": policy}}
	}
	if len(r.AttachPolicyARNs) > 0 {
		props["ManagedPolicyArns"] = r.AttachPolicyARNs
	}
	var tags []any
	for _, k := range sortedKeys(r.Tags) {
		tags = append(tags, map[string]string{"Key": k, "Value": r.Tags[k]})
	}
	if len(tags) > 0 {
		props["Tags"] = tags
	}
	tmpl := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              r.Comment,
		"Resources":                map[string]any{"IrsaRole": map[string]any{"Type": "AWS::IAM::Role", "Properties": props}},
		"Outputs":                  map[string]any{"RoleArn": map[string]any{"Value": map[string]any{"Fn::GetAtt": []string{"IrsaRole", "Arn"}}}},
	}
	out, err := yamlout.Marshal(tmpl) // a role named "=" or "on" stays a string for YAML 1.1 readers
	return string(out), err
}

func indentJSON(doc, prefix string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil {
		return "", err
	}
	return prefix + string(b), nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
