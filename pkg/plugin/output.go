package plugin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/yamlout"
)

// outputFlags wraps cli-runtime's PrintFlags: -o json|yaml|jsonpath=... print the typed result, and no -o prints
// the command's human-readable form.
type outputFlags struct {
	print *genericclioptions.PrintFlags
	// extra lists formats a command renders itself (such as terraform), beyond those of PrintFlags.
	extra []string
}

func newOutputFlags(extra ...string) *outputFlags {
	print := genericclioptions.NewPrintFlags("").WithDefaultOutput("")
	// -o name is kubectl's KIND/NAME of each object; a result such as a DoctorReport has no name (it printed
	// "doctorreport.irsa.kubectl-irsa.io/<unknown>"), so only a command that prints names itself (list) offers it.
	print.NamePrintFlags = nil
	return &outputFlags{print: print, extra: extra}
}

func (o *outputFlags) addFlags(cmd *cobra.Command) {
	o.print.AddFlags(cmd)
	if len(o.extra) > 0 {
		f := cmd.Flags().Lookup("output")
		f.Usage = fmt.Sprintf("%s One of: %v.", f.Usage, o.extra)
	}
}

// format returns the -o value ("" for human output).
func (o *outputFlags) format() string { return *o.print.OutputFormat }

// human reports whether the human-readable form was asked for.
func (o *outputFlags) human() bool { return o.format() == "" }

// validate checks -o before anything runs.
func (o *outputFlags) validate() error {
	f := o.format()
	if f == "" {
		return nil
	}
	for _, e := range o.extra {
		if f == e {
			return nil
		}
	}
	if _, err := o.print.ToPrinter(); err != nil {
		if !genericclioptions.IsNoCompatiblePrinterError(err) {
			// A format kubectl knows with a template it cannot parse: its own message, as kubectl prints it.
			return errors.New(strings.TrimSpace(err.Error()))
		}
		return fmt.Errorf("unsupported output format %q: use one of %v", f, append(o.print.AllowedFormats(), o.extra...))
	}
	return nil
}

// printObject prints obj in the -o format, always valid and terminal-safe whatever text from a cluster, AWS or a
// log the result holds. JSON is escaped at the JSON level (safetext.JSON: the values decode unchanged). Every
// other format (yaml, jsonpath, go-template, ...) prints string values as they are, so it is given a copy whose
// strings have their control, C1 and bidi characters written as visible escapes (safetext.EscapeData): one
// U+009B in a log line used to make -o yaml fail, and a jsonpath could print an annotation's ESC raw.
func (o *outputFlags) printObject(obj runtime.Object, out io.Writer) error {
	if o.format() == "json" {
		return report.WriteJSON(out, obj)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	var data map[string]any
	if err := json.Unmarshal(safetext.JSON(b), &data); err != nil {
		return fmt.Errorf("encode the result: %w", err)
	}
	safe := escapeStrings(data).(map[string]any)
	if o.format() == "yaml" {
		// yamlout quotes the strings YAML 1.1 readers would misread, such as an action's op "=" (PyYAML's
		// safe_load failed on a plain =).
		y, err := yamlout.Marshal(safe)
		if err != nil {
			return fmt.Errorf("encode the result as YAML: %w", err)
		}
		_, err = out.Write(y)
		return err
	}
	printer, err := o.print.ToPrinter()
	if err != nil {
		return err
	}
	return printer.PrintObj(&unstructured.Unstructured{Object: safe}, out)
}

// escapeStrings returns v with every string (keys included) escaped for a terminal, keeping tabs and newlines.
func escapeStrings(v any) any {
	switch v := v.(type) {
	case string:
		return safetext.EscapeData(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[safetext.EscapeData(k)] = escapeStrings(e)
		}
		return out
	case []any:
		for i, e := range v {
			v[i] = escapeStrings(e)
		}
		return v
	}
	return v
}
