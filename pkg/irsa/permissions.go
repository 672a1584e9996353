package irsa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// InlinePolicyName is the name of the inline policy --allow and --policy-file write.
const InlinePolicyName = "kubectl-irsa"

var actionRE = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9*?]+$`)

// ParseActions validates actions written as service:Action (wildcards allowed in the action part).
func ParseActions(actions []string) ([]string, error) {
	var out []string
	for _, a := range actions {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !actionRE.MatchString(a) {
			return nil, fmt.Errorf("invalid action %q in --allow: write service:Action, such as eks:ListClusters or s3:Get*", a)
		}
		out = append(out, a)
	}
	return out, nil
}

// PermissionsPolicy returns the inline policy document: the policy file when given, else one Allow statement
// of the actions on every resource.
func PermissionsPolicy(actions []string, policyFile []byte) (string, error) {
	if len(policyFile) > 0 {
		if len(actions) > 0 {
			return "", fmt.Errorf("use --allow or --policy-file, not both")
		}
		if _, err := trust.Parse(string(policyFile)); err != nil {
			return "", fmt.Errorf("--policy-file: %w", err)
		}
		return NormalizePolicy(string(policyFile))
	}
	if len(actions) == 0 {
		return "", nil
	}
	doc := map[string]any{
		"Version":   trust.Version,
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"}},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// NormalizePolicy URL-decodes (as IAM returns policies) and compacts a policy with sorted keys, so two
// documents that mean the same compare equal.
func NormalizePolicy(doc string) (string, error) {
	doc = strings.TrimSpace(doc)
	if strings.HasPrefix(doc, "%") {
		d, err := url.QueryUnescape(doc)
		if err != nil {
			return "", err
		}
		doc = d
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("policy is not valid JSON: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}
