package yamlout

import (
	"bytes"
	"os/exec"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// yaml11Specials are strings a YAML 1.1 reader resolves to another type when written plain.
var yaml11Specials = []string{"=", "<<", "~", "", "null", "Null", "y", "Y", "n", "N", "yes", "Yes", "NO", "on", "On", "OFF", "off", "true", "False",
	"yEs", "oN", "1:20", "190:20:30", "190:20:30.15", "0b101", "0777", "0x1F", "1_000", "+1", "-1", "0", ".5", "1.", "-.inf", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5"}

func TestImplicit11(t *testing.T) {
	for _, s := range yaml11Specials {
		if !Implicit11(s) {
			t.Errorf("Implicit11(%q) = false", s)
		}
	}
	for _, s := range []string{"=a", "a=", "<<<", "<", "yess", "o", "role/x", "1a", "+", "-", "1e3x", "a:1", "arn:aws:iam::123456789012:role/x", "12:30:x", "v1.2"} {
		if Implicit11(s) {
			t.Errorf("Implicit11(%q) = true", s)
		}
	}
}

// TestMarshalQuotesYAML11Scalars: every string a YAML 1.1 reader would resolve to another type (`=` is the value
// tag PyYAML's safe_load fails on) is quoted, as a value, a key or in a list, and every value reads back the same.
func TestMarshalQuotesYAML11Scalars(t *testing.T) {
	in := map[string]any{"op": "=", "list": yaml11Specials, "keys": map[string]any{}}
	for _, s := range yaml11Specials {
		in["keys"].(map[string]any)[s] = s
	}
	out, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte(`op: "="`+"\n")) || bytes.Contains(out, []byte("op: =\n")) {
		t.Errorf("op not quoted:\n%s", out)
	}
	// A strict YAML 1.1 reading: no plain scalar may be one YAML 1.1 resolves to another type.
	var doc yaml.Node
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 && Implicit11(n.Value) {
			t.Errorf("line %d: plain %q, which YAML 1.1 does not read as a string", n.Line, n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	var back map[string]any
	if err := sigsyaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"op": "=", "list": toAny(yaml11Specials), "keys": in["keys"]}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("read back\n%v\nwant\n%v", back, want)
	}
}

// TestMarshalReadByPyYAML: PyYAML (a YAML 1.1 reader) reads the output back unchanged. Skipped where python3
// has no yaml module.
func TestMarshalReadByPyYAML(t *testing.T) {
	if exec.Command("python3", "-c", "import yaml").Run() != nil {
		t.Skip("python3 with PyYAML not available")
	}
	in := map[string]any{"op": "=", "list": yaml11Specials, "n": 3, "multi": "a\nb\n", "nested": map[string]any{"<<": "x", "on": []any{true, nil}}}
	out, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", "-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout, sort_keys=True)")
	cmd.Stdin = bytes.NewReader(out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML cannot read it: %v\n%s\n%s", err, stderr.String(), out)
	}
	var back map[string]any
	if err := sigsyaml.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"op": "=", "list": toAny(yaml11Specials), "n": float64(3), "multi": "a\nb\n", "nested": map[string]any{"<<": "x", "on": []any{true, nil}}}
	if !reflect.DeepEqual(back, want) {
		t.Errorf("PyYAML read\n%s\nwant %v", got, want)
	}
}

// TestMarshalLayout: keys sorted, sequences not indented under their key, multi-line strings as literal blocks
// (as sigs.k8s.io/yaml writes them).
func TestMarshalLayout(t *testing.T) {
	out, err := Marshal(map[string]any{"b": []any{map[string]any{"y2": 1, "x1": "s"}}, "a": "l1\nl2\n"})
	if err != nil {
		t.Fatal(err)
	}
	want := "a: |\n  l1\n  l2\nb:\n- x1: s\n  y2: 1\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
