package safetext

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestJSON(t *testing.T) {
	v := map[string]any{
		"excerpt": "AccessDenied \u009b31m \x7f \u202e \u2066x\u2069 \ufeff\ufffe\uffff \u0085 ünï 日本 🙂",
		"list":    []string{"a\u009bb", "plain"},
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := yaml.JSONToYAML(b); err == nil {
		t.Log("note: JSONToYAML accepted the raw JSON")
	}
	safe := JSON(b)
	for _, bad := range []string{"\u009b", "\x7f", "\u202e", "\u2066", "\ufeff", "\ufffe", "\uffff", "\u0085"} {
		if strings.Contains(string(safe), bad) {
			t.Errorf("JSON keeps %q: %s", bad, safe)
		}
	}
	var back map[string]any
	if err := json.Unmarshal(safe, &back); err != nil {
		t.Fatalf("not JSON: %v: %s", err, safe)
	}
	if back["excerpt"] != v["excerpt"] {
		t.Errorf("value changed: %q", back["excerpt"])
	}
	y, err := yaml.JSONToYAML(safe)
	if err != nil {
		t.Fatalf("JSONToYAML: %v", err)
	}
	var fromYAML map[string]any
	if err := yaml.Unmarshal(y, &fromYAML); err != nil || fromYAML["excerpt"] != v["excerpt"] {
		t.Errorf("YAML round trip: %v %q", err, fromYAML["excerpt"])
	}
	plain := []byte(`{"a":"b ünï"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Errorf("copied clean JSON")
	}
	if got := string(JSON([]byte("\"\xff\""))); got != `"\ufffd"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}

func FuzzJSON(f *testing.F) {
	f.Add("a\u009bb\x7f\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.Marshal(map[string]string{"k": s})
		if err != nil {
			t.Skip()
		}
		safe := JSON(b)
		var back map[string]string
		if err := json.Unmarshal(safe, &back); err != nil {
			t.Fatalf("invalid JSON %q from %q", safe, b)
		}
		var orig map[string]string
		_ = json.Unmarshal(b, &orig)
		if back["k"] != orig["k"] {
			t.Fatalf("value changed: %q -> %q", orig["k"], back["k"])
		}
		if _, err := yaml.JSONToYAML(safe); err != nil {
			t.Fatalf("JSONToYAML(%q): %v", safe, err)
		}
	})
}
