package plugin

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
)

// TestPrintObjectEscapesEveryFormat: text from a cluster or a log with ESC, C1 and bidi characters never reaches
// the terminal raw in any -o format, and every format succeeds (-o yaml used to fail on U+009B).
func TestPrintObjectEscapesEveryFormat(t *testing.T) {
	hostile := "role/x\x1b]0;TITLE\x1b\\\x1b[31mRED\u009b2J\u202eevil"
	obj := api.NewVersionInfo(hostile, "c", "d", "go", "linux/amd64")
	for _, format := range []string{"json", "yaml", "jsonpath={.version}", "go-template={{.version}}", "jsonpath-as-json={.version}", "kyaml"} {
		o := newOutputFlags()
		*o.print.OutputFormat = format
		var out bytes.Buffer
		if err := o.printObject(obj, &out); err != nil {
			t.Errorf("-o %s: %v", format, err)
			continue
		}
		if s := out.String(); strings.ContainsAny(s, "\x1b\u009b\u202e") || !strings.Contains(s, "RED") {
			t.Errorf("-o %s printed a raw control character or lost the text: %q", format, s)
		}
	}
}

// TestYAMLQuotesYAML11Scalars: -o yaml writes an unchanged action's op "=" quoted: PyYAML (YAML 1.1) reads a
// plain = as the value tag and fails.
func TestYAMLQuotesYAML11Scalars(t *testing.T) {
	res := &api.Result{TypeMeta: api.TypeMeta("Result"), Actions: []api.Action{{Op: "=", Resource: "role/on", Detail: "unchanged"}, {Op: "+", Resource: "<<", Detail: "y"}}}
	o := newOutputFlags()
	*o.print.OutputFormat = "yaml"
	var out bytes.Buffer
	if err := o.printObject(res, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`op: "="`, `resource: "<<"`, `detail: "y"`} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("no %s in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "op: =\n") {
		t.Errorf("plain = in\n%s", out.String())
	}
}
