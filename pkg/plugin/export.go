package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/yamlout"
)

// ExportOptions writes an IdentitySet from live state.
type ExportOptions struct {
	*Globals
	scope  scopeFlags
	name   string
	output string
}

// NewCmdExport builds `kubectl irsa export`.
func NewCmdExport(g *Globals) *cobra.Command {
	o := &ExportOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "export [-n NAMESPACE | -A] [--name NAME] [-o yaml|json]",
		Short: "Write an IdentitySet file from live state (IRSA annotations and Pod Identity associations), for apply -f",
		Long: `Export writes the IdentitySet that says what the cluster has now: every ServiceAccount list shows (an IRSA
annotation or an EKS Pod Identity association), grouped by role, mechanism and permissions; each ServiceAccount's
own statements of the role's kubectl-irsa inline policy (as allow when they are one Allow of actions on "*",
else as policy); the role's attached managed policies; the association's options. A role of the caller's account
is written by name (and path), another account's by ARN. It is the adoption path for clusters set up by hand,
eksctl or Terraform: kubectl irsa apply -f of the export changes nothing. Read only: list's reads, then one
inline policy and one attached-policy list per role.

--name is the set's name (metadata.name, a DNS-1123 label; default: the namespace, or "cluster" with -A).

Exit status: 0 the file was written; 2 nothing was written: a read failed or was denied (the export would
be incomplete), the Pod Identity associations could not be listed, a ServiceAccount's state cannot be said in
a file (two roles; a role used through two mechanisms, as a migration half done leaves it), a usage error.`,
		Example: "  kubectl irsa export -n payments > payments.yaml\n  kubectl irsa export -A --name prod -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return asUsage(cmd, err)
			}
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	o.scope.addFlags(cmd, "export across all namespaces")
	cmd.Flags().StringVar(&o.name, "name", "", `the set's name, metadata.name (default: the namespace, or "cluster" with -A)`)
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	o.Flags.addRoleProfileFlag(cmd.Flags())
	return cmd
}

// Complete resolves the scope and the default name.
func (o *ExportOptions) Complete() error {
	if err := o.scope.complete(o.Factory); err != nil {
		return err
	}
	if o.name == "" {
		o.name = o.scope.namespace
		if o.name == "" {
			o.name = "cluster"
		}
	}
	return nil
}

// Validate checks the name and the output format.
func (o *ExportOptions) Validate() error {
	if errs := validation.IsDNS1123Label(o.name); len(errs) > 0 {
		return fmt.Errorf("--name %q is not a DNS-1123 label (it becomes an annotation value and a role tag): %s", o.name, strings.Join(errs, "; "))
	}
	if o.output != "yaml" && o.output != "json" {
		return fmt.Errorf("unsupported output format %q: use yaml or json", o.output)
	}
	return nil
}

// Run reads, builds the set, checks it loads, and prints it; nothing is printed unless the whole scope was read.
func (o *ExportOptions) Run(ctx context.Context) error {
	caller, err := o.Factory.Caller(ctx)
	if err != nil {
		return err
	}
	in, err := o.inspector(ctx, true)
	if err != nil {
		return err
	}
	ids, err := in.Identities(ctx, o.scope.namespace, setup.InlinePolicyName)
	if err != nil {
		return err
	}
	for _, n := range ids.Notes {
		fmt.Fprintf(o.ErrOut, "note: %s\n", safetext.Short(n, maxLineRunes))
	}
	if err := exportComplete(ids); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	live, notAdmitted, err := exportLive(ids)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if len(notAdmitted) > 0 {
		fmt.Fprintf(o.ErrOut, "warning: left out, their role's trust does not admit them (exporting them would make apply grant the role): %s; link them (kubectl irsa link) or remove the annotation\n", strings.Join(notAdmitted, ", "))
	}
	set, err := identityset.Export(o.name, caller.Account, live)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("%w; nothing was written", err)}
	}
	// What export writes, Load must accept: a state it cannot say is an error here, not in the next apply.
	if err := identityset.Validate([]identityset.Document{{Source: identityset.Source{File: "export"}, Set: set}}); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("the export does not validate (%s); nothing was written", strings.ReplaceAll(err.Error(), "\n", "; "))}
	}
	for _, it := range ids.Items {
		if it.RoleExists == "no" {
			fmt.Fprintf(o.ErrOut, "note: role %s of %s/%s does not exist: apply -f creates it when the set names it by name\n", safetext.Short(it.RoleARN, maxNameRunes), it.Namespace, it.ServiceAccount)
		}
	}
	if err := printSet(o.Out, set, o.output); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "exported %d ServiceAccounts in %d role entries as set %s\n", len(live), len(set.Spec.Roles), o.name)
	return nil
}

// exportComplete refuses an export that would be smaller than what exists: a failed read, or associations not listed.
func exportComplete(ids *inspect.Identities) error {
	if len(ids.CouldNotCheck) > 0 {
		return fmt.Errorf("the export would be incomplete, nothing was written: %s", strings.Join(ids.CouldNotCheck, "; "))
	}
	if !ids.AssociationsRead {
		return errors.New("the EKS Pod Identity associations could not be listed (see the note; --eks-cluster names the cluster when the context does not): the export would miss the ServiceAccounts that use Pod Identity; nothing was written")
	}
	return nil
}

// exportLive turns the rows and what was read of their roles into identityset.Live. A ServiceAccount annotated
// with (or associated to) a role whose trust does not admit it is left out and returned in notAdmitted: the
// annotation alone grants nothing, and exporting it would make `apply -f` write the trust that grants it, so
// whoever can annotate a ServiceAccount would get any role through the adoption path.
func exportLive(ids *inspect.Identities) (live []identityset.Live, notAdmitted []string, err error) {
	live = make([]identityset.Live, 0, len(ids.Items))
	for _, it := range ids.Items {
		if it.TrustAdmits == "no" {
			notAdmitted = append(notAdmitted, it.Namespace+"/"+it.ServiceAccount+" ("+safetext.Short(it.RoleARN, 200)+")")
			continue
		}
		l := identityset.Live{Namespace: it.Namespace, Name: it.ServiceAccount, RoleARN: it.RoleARN, Mechanism: it.Mechanism, ManagedPolicies: ids.Attached[it.RoleARN]}
		if doc, ok := ids.Inline[it.RoleARN]; ok {
			st, err := setup.ServiceAccountStatements(doc, it.Namespace, it.ServiceAccount)
			if err != nil {
				return nil, nil, fmt.Errorf("the inline policy %s of role %s cannot be read (%v); nothing was written", setup.InlinePolicyName, safetext.Short(it.RoleName, maxNameRunes), err)
			}
			l.Statements = st
		}
		if a, ok := ids.Associations[it.Namespace+"/"+it.ServiceAccount]; ok && it.Mechanism != identityset.MechanismIRSA {
			l.PodIdentity = &identityset.PodIdentity{TargetRoleArn: a.TargetRoleARN, DisableSessionTags: a.DisableSessionTags}
		}
		live = append(live, l)
	}
	return live, notAdmitted, nil
}

// printSet prints the set as YAML or JSON, terminal-safe: JSON escaped at the JSON level (the values decode
// unchanged), YAML with control and bidi characters written as visible escapes, as every -o of kubectl irsa.
func printSet(w io.Writer, set identityset.IdentitySet, format string) error {
	b, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode the set: %w", err)
	}
	b = safetext.JSON(b)
	if format == "json" {
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return fmt.Errorf("encode the set as JSON: %w", err)
		}
		_, err := w.Write(append(out.Bytes(), '\n'))
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return fmt.Errorf("encode the set: %w", err)
	}
	y, err := yamlout.Marshal(escapeStrings(data))
	if err != nil {
		return fmt.Errorf("encode the set as YAML: %w", err)
	}
	_, err = w.Write(y)
	return err
}
