// Package yamlout writes YAML that YAML 1.1 readers (PyYAML, CloudFormation's tooling, older Ruby and Java
// parsers) read back as the same values YAML 1.2 readers do. The usual Go encoders quote strings that YAML 1.2
// would resolve to another type, but leave some that YAML 1.1 resolves differently plain: `=` (the value tag,
// on which PyYAML's safe_load fails), `<<` (the merge key), y/n, and YAML 1.1's numbers, such as 1:20
// (sexagesimal) or 0b1. Every such string is written double-quoted here.
package yamlout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Marshal writes v (anything encoding/json encodes) as YAML: mapping keys sorted, two-space indentation,
// sequences not indented under their key (as sigs.k8s.io/yaml and kubectl write them).
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(node(data)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func node(v any) *yaml.Node {
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n.Content = append(n.Content, String(k), node(v[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			n.Content = append(n.Content, node(e))
		}
		return n
	case string:
		return String(v)
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(v), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(v)}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	panic(fmt.Sprintf("yamlout: unexpected %T from encoding/json", v))
}

// String is the scalar node of a string, double-quoted when a YAML 1.1 reader would not read it plain as that
// string (the encoder itself quotes what YAML 1.2 would misread).
func String(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if Implicit11(s) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// YAML 1.1's implicit types (yaml.org/type: bool, int, float, null, timestamp, merge, value), as PyYAML
// resolves them, plus y and n, which the bool type lists too. Bools match in any case, to be safe.
var implicit11 = regexp.MustCompile(`^(?:` +
	`(?i:y|n|yes|no|true|false|on|off)` +
	`|~|null|Null|NULL` +
	`|<<|=` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` +
	`|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?` +
	`)$`)

// Implicit11 reports whether a YAML 1.1 reader resolves the plain scalar s to something other than the string
// s: a bool, a number, null, a timestamp, the merge key or the value key.
func Implicit11(s string) bool { return s == "" || implicit11.MatchString(s) }
