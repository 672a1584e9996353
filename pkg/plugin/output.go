package plugin

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
)

// outputFlags wraps cli-runtime's PrintFlags: -o json|yaml|jsonpath=... print the typed result, and no -o prints
// the command's human-readable form.
type outputFlags struct {
	print *genericclioptions.PrintFlags
	// extra lists formats a command renders itself (such as terraform), beyond those of PrintFlags.
	extra []string
}

func newOutputFlags(extra ...string) *outputFlags {
	return &outputFlags{print: genericclioptions.NewPrintFlags("").WithDefaultOutput(""), extra: extra}
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
		return fmt.Errorf("unsupported output format %q: use one of %v", f, append(o.print.AllowedFormats(), o.extra...))
	}
	return nil
}

// printObject prints obj in the -o format. JSON and YAML are encoded here so that they always succeed and stay
// valid whatever text from a cluster, AWS or a log the result holds: safetext.JSON escapes the characters a
// terminal would interpret or YAML refuses (one U+009B in a log line used to make -o yaml fail).
func (o *outputFlags) printObject(obj runtime.Object, out io.Writer) error {
	switch o.format() {
	case "json":
		b, err := json.MarshalIndent(obj, "", "    ")
		if err != nil {
			return fmt.Errorf("encode the result as JSON: %w", err)
		}
		_, err = out.Write(append(safetext.JSON(b), '\n'))
		return err
	case "yaml":
		b, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode the result as YAML: %w", err)
		}
		y, err := yaml.JSONToYAML(safetext.JSON(b))
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
	return printer.PrintObj(obj, out)
}
