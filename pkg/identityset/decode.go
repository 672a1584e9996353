package identityset

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

var (
	setType        = reflect.TypeFor[IdentitySet]()
	stringListType = reflect.TypeFor[StringList]()
)

// maxNodes bounds the nodes one document may expand to through YAML aliases (a "billion laughs" document).
const maxNodes = 100_000

// walker decodes one YAML document against the Go types by their json tags, as Kubernetes decodes a manifest
// strictly: every unknown field, duplicate key and value of the wrong type is a problem with its field path and
// line. It returns the value with only the well-formed fields, as JSON-ready maps, lists and scalars.
type walker struct {
	src    Source
	ps     *Problems
	budget int
}

func (w *walker) problem(n *yaml.Node, path, format string, args ...any) {
	w.ps.add(w.src, path, n.Line, format, args...)
}

// value decodes n as a value of type t; ok is false when n had the wrong shape (a problem was recorded).
func (w *walker) value(n *yaml.Node, t reflect.Type, path string) (any, bool) {
	if w.budget--; w.budget < 0 {
		if w.budget == -1 {
			w.problem(n, path, "the document expands to more than %d values through YAML aliases", maxNodes)
		}
		return nil, false
	}
	if n.Kind == yaml.AliasNode {
		return w.value(n.Alias, t, path)
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil, true // absent: validation says when it is required
	}
	switch {
	case t == stringListType:
		return w.stringList(n, path)
	case t.Kind() == reflect.Struct:
		return w.object(n, t, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.problem(n, path, "want a list, got %s", describe(n))
			return nil, false
		}
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			if v, ok := w.value(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); ok {
				out = append(out, v)
			}
		}
		return out, true
	case t.Kind() == reflect.Map: // Statement.Condition: operator -> key -> value(s)
		return w.condition(n, path)
	case t.Kind() == reflect.String:
		return w.scalar(n, path, "!!str", "a string")
	case t.Kind() == reflect.Bool:
		return w.scalar(n, path, "!!bool", "true or false")
	}
	panic("identityset: no decoding for " + t.String()) // a field type added without teaching the walker
}

// object decodes a mapping into the fields of struct t, named by their json tags.
func (w *walker) object(n *yaml.Node, t reflect.Type, path string) (any, bool) {
	if n.Kind != yaml.MappingNode {
		w.problem(n, path, "want an object, got %s", describe(n))
		return nil, false
	}
	fields := jsonFields(t)
	out := map[string]any{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			w.problem(k, path, "a key must be a field name, got %s", describe(k))
			continue
		}
		p := join(path, k.Value)
		if seen[k.Value] {
			w.problem(k, p, "the field is given twice")
			continue
		}
		seen[k.Value] = true
		f, known := fields[k.Value]
		if !known {
			w.problem(k, p, "unknown field%s", suggest(k.Value, fields))
			continue
		}
		if val, ok := w.value(v, f.Type, p); ok && val != nil {
			out[k.Value] = val
		}
	}
	return out, true
}

// stringList decodes IAM's "a string or a list of strings".
func (w *walker) stringList(n *yaml.Node, path string) (any, bool) {
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.AliasNode {
		return w.value(n, reflect.TypeFor[[]string](), path)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return []any{n.Value}, true
	}
	w.problem(n, path, "want a string or a list of strings, got %s", describe(n))
	return nil, false
}

// scalar decodes a string or a boolean, refusing YAML's other types (a number where a string belongs must be quoted).
func (w *walker) scalar(n *yaml.Node, path, tag, want string) (any, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		hint := ""
		if tag == "!!str" && n.Kind == yaml.ScalarNode {
			hint = ": quote it"
		}
		w.problem(n, path, "want %s, got %s%s", want, describe(n), hint)
		if hint != "" {
			// Keep the text, so that validation does not also say the field is missing (its own problems about
			// this field are dropped: it is reported once).
			return n.Value, true
		}
		return nil, false
	}
	if tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err != nil {
			w.problem(n, path, "want true or false, got %q", n.Value)
			return nil, false
		}
		return b, true
	}
	return n.Value, true
}

// condition decodes an IAM Condition block: {OPERATOR: {KEY: value or list of values}}, values being strings,
// numbers or booleans (IAM compares them as strings).
func (w *walker) condition(n *yaml.Node, path string) (any, bool) {
	if n.Kind != yaml.MappingNode {
		w.problem(n, path, "want an object of condition operators, got %s", describe(n))
		return nil, false
	}
	out := map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		op, keys := n.Content[i], n.Content[i+1]
		p := join(path, op.Value)
		for keys.Kind == yaml.AliasNode {
			keys = keys.Alias
		}
		if keys.Kind != yaml.MappingNode {
			w.problem(keys, p, "want an object of condition keys to values, got %s", describe(keys))
			continue
		}
		m := map[string]any{}
		for j := 0; j+1 < len(keys.Content); j += 2 {
			key, val := keys.Content[j], keys.Content[j+1]
			if v, ok := w.conditionValue(val, join(p, key.Value)); ok {
				m[key.Value] = v
			}
		}
		out[op.Value] = m
	}
	return out, true
}

func (w *walker) conditionValue(n *yaml.Node, path string) (any, bool) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	scalar := func(n *yaml.Node) bool {
		return n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null"
	}
	switch {
	case scalar(n):
		return scalarValue(n), true
	case n.Kind == yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			for c.Kind == yaml.AliasNode {
				c = c.Alias
			}
			if !scalar(c) {
				w.problem(c, fmt.Sprintf("%s[%d]", path, i), "want a string, number or boolean, got %s", describe(c))
				return nil, false
			}
			out = append(out, scalarValue(c))
		}
		return out, true
	}
	w.problem(n, path, "want a value or a list of values, got %s", describe(n))
	return nil, false
}

// scalarValue keeps a condition value's type (true stays a boolean, 1 a number), as IAM keeps it in the document.
func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err == nil {
			if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
				return n.Value // JSON has no infinity: keep the text
			}
			return v
		}
	}
	return n.Value
}

// jsonFields maps the json names of a struct's fields to the fields.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

// suggest names the known field closest to a misspelt one, ignoring case: `: did you mean serviceAccounts?`.
func suggest(name string, fields map[string]reflect.StructField) string {
	for known := range fields {
		if strings.EqualFold(known, name) || strings.EqualFold(strings.ReplaceAll(known, "_", ""), strings.ReplaceAll(name, "_", "")) {
			return " (did you mean " + known + "?)"
		}
	}
	return ""
}

// describe names what a node is, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing"
	case "!!str":
		return fmt.Sprintf("the string %q", truncate(n.Value))
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), truncate(n.Value))
}

// truncate keeps messages short: a value from a file may be long.
func truncate(s string) string {
	const max = 80
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}

// join appends a field name to a path.
func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}
