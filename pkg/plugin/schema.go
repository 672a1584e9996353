package plugin

import (
	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
)

// SchemaOptions prints the JSON Schema of the IdentitySet file.
type SchemaOptions struct {
	*Globals
}

// NewCmdSchema builds `kubectl irsa schema`.
func NewCmdSchema(g *Globals) *cobra.Command {
	o := &SchemaOptions{Globals: g}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the IdentitySet file (apply -f, diff -f, export), for editors and kubeconform",
		Long: `Schema prints the JSON Schema (draft-07) of an IdentitySet document: unknown fields, types, enums and
patterns (role names and ARNs, paths, NAMESPACE/NAME, service:Action). Point an editor at it with the first
line "# yaml-language-server: $schema=identityset.schema.json"; check files in CI with kubeconform, naming the
file by the CRD convention: kubectl irsa schema > schemas/irsa.kubectl-irsa.io/identityset_v1alpha1.json and
kubeconform -strict -schema-location 'schemas/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json' FILES.
The schema checks one document's shape; kubectl irsa apply --validate-only -f also checks IAM's policy rules,
administrator-equivalent grants, a ServiceAccount listed once across files and entries of one role agreeing. Reads nothing, calls nothing.`,
		Example: "  kubectl irsa schema > identityset.schema.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.Run()
		},
	}
}

// Run prints the schema.
func (o *SchemaOptions) Run() error {
	_, err := o.Out.Write(identityset.Schema())
	return err
}
