package entry

import (
	"os/exec"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want *Request // nil: left to the full CLI
	}{
		{[]string{"doctor", "--logs-file", "app.log"}, &Request{LogsFile: "app.log"}},
		{[]string{"doctor", "--logs-file=app.log"}, &Request{LogsFile: "app.log"}},
		{[]string{"doctor", "--logs-file", "-", "-o", "json"}, &Request{LogsFile: "-", JSON: true}},
		{[]string{"doctor", "-ojson", "--logs-file", "a=b.log"}, &Request{LogsFile: "a=b.log", JSON: true}},
		{[]string{"doctor", "--output=json", "--logs-file=x"}, &Request{LogsFile: "x", JSON: true}},
		{[]string{"doctor", "-o=json", "--logs-file", "x"}, &Request{LogsFile: "x", JSON: true}},
		// Left to the full CLI: other commands, targets, flags, formats, repeats, missing or flag-like values.
		{[]string{"doctor"}, nil},
		{[]string{"doctor", "--logs-file"}, nil},
		{[]string{"doctor", "--logs-file="}, nil},
		{[]string{"doctor", "--logs-file", ""}, nil},
		{[]string{"doctor", "--logs-file", "--help"}, nil},
		{[]string{"doctor", "-o", "json"}, nil},
		{[]string{"doctor", "web", "--logs-file", "app.log"}, nil},
		{[]string{"doctor", "--logs-file", "app.log", "-n", "shop"}, nil},
		{[]string{"doctor", "--logs-file", "app.log", "-A"}, nil},
		{[]string{"doctor", "--logs-file", "app.log", "--suggest-policy"}, nil},
		{[]string{"doctor", "--logs-file", "app.log", "-o", "yaml"}, nil},
		{[]string{"doctor", "--logs-file", "app.log", "-o"}, nil},
		{[]string{"doctor", "--logs-file", "a", "--logs-file", "b"}, nil},
		{[]string{"doctor", "--logs-file", "a", "-o", "json", "--output", "json"}, nil},
		{[]string{"doctor", "--logs-file", "a", "--"}, nil},
		{[]string{"doctor", "--logs-file", "a", "--kubeconfig", "k"}, nil},
		{[]string{"--context", "c", "doctor", "--logs-file", "a"}, nil},
		{[]string{"link", "--logs-file", "a"}, nil},
		{[]string{"version"}, nil},
		{nil, nil},
	} {
		got, ok := Parse(tc.args)
		if tc.want == nil {
			if ok {
				t.Errorf("Parse(%q) = %+v, want it left to the full CLI", tc.args, got)
			}
			continue
		}
		if !ok || got != *tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.args, got, ok, *tc.want)
		}
	}
}

// TestEntryStaysSmall: the entry links neither client-go, apimachinery, cli-runtime, cobra nor the AWS SDK,
// whose package initialisation is what it exists to skip.
func TestEntryStaysSmall(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/kubectl-irsa/kubectl-irsa/cmd/kubectl-irsa").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, heavy := range []string{"k8s.io/", "sigs.k8s.io/", "github.com/aws/", "github.com/spf13/", "google.golang.org/"} {
			if strings.HasPrefix(dep, heavy) {
				t.Errorf("cmd/kubectl-irsa depends on %s", dep)
			}
		}
	}
}
