package plugin

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/identityset"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// ApplyOptions converges live state to IdentitySet files.
type ApplyOptions struct {
	*Globals
	files        IdentityFiles
	output       *outputFlags
	lock         lockFlags
	req          setup.SetRequest
	validateOnly bool
}

// NewCmdApply builds `kubectl irsa apply`.
func NewCmdApply(g *Globals) *cobra.Command {
	o := &ApplyOptions{Globals: g, output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [--dry-run] [--prune] [--restart]",
		Short: "Converge ServiceAccounts, roles, trust, permissions and associations to IdentitySet files",
		Long: `Apply reads IdentitySet files (validated strictly before any read), reads live state once (ServiceAccounts
and associations in pages, each role once) and writes what differs, in dependency order: the OIDC provider,
each role (created with the set's tag; trust subjects and the Pod Identity statement merged; each
ServiceAccount's own inline-policy statement; managed policies), then each ServiceAccount's annotation with the
set's mark (irsa.kubectl-irsa.io/set) or its Pod Identity association. It uses the same steps as link, under
the per-role locks; a failed step rolls back this run's writes. A second run writes nothing; after someone
deleted an annotation, association or statement, apply repairs exactly that.

Without --prune apply never deletes. --prune removes what a set marked and the files no longer list: the
ServiceAccount's trust subject, statements, association and annotations, and a role only when the set created
it (tag kubectl-irsa.io/set) and nothing else is left in it. It never deletes a ServiceAccount, a statement
kubectl irsa did not write, or a role the set did not create.`,
		Example: `  # Check the files in CI without touching the cluster
  kubectl irsa apply -f identities/ --validate-only

  # Show the plan, then converge
  kubectl irsa apply -f identities/ --dry-run
  kubectl irsa apply -f identities/ --restart`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return asUsage(cmd, err)
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.files.AddFlag(f)
	f.BoolVar(&o.req.DryRun, "dry-run", false, "print the plan and write nothing")
	f.BoolVar(&o.req.Prune, "prune", false, "remove what a set marked and the files no longer list")
	f.BoolVar(&o.req.Restart, "restart", false, "roll the workloads of each ServiceAccount whose annotation or association changed")
	f.BoolVar(&o.validateOnly, "validate-only", false, "validate the files and stop (no Kubernetes or AWS call)")
	addTrustSizeLimitFlag(f, &o.req.TrustSizeLimit)
	o.Flags.addRoleProfileFlag(f)
	o.lock.addFlags(f)
	o.output.addFlags(cmd)
	return cmd
}

// Validate checks the flags before any call.
func (o *ApplyOptions) Validate() error {
	if err := o.output.validate(); err != nil {
		return err
	}
	return o.files.Validate()
}

// Run loads the files, plans, prints the plan and applies it.
func (o *ApplyOptions) Run(ctx context.Context) error {
	docs, err := o.files.Load(o.In, o.ErrOut)
	if err != nil {
		return err
	}
	if o.validateOnly {
		fmt.Fprintf(o.Out, "valid: %d IdentitySet document(s)\n", len(docs))
		return nil
	}
	o.req.Sets = setsOf(docs)
	plan, err := o.planSet(ctx, o.req, &o.lock)
	if err != nil {
		return err
	}
	human := o.output.human()
	if human {
		header := "Plan"
		if o.req.DryRun {
			header = "Plan (dry run: nothing is written)"
		}
		res := plan.Result("ApplyResult")
		fmt.Fprintf(o.Out, "%s for %s:\n", header, describeSets(res.Sets))
		printChanges(o.Out, res)
	}
	res, err := plan.Apply(ctx)
	if err != nil {
		if human && res != nil {
			printActions(o.ErrOut, &api.Result{Actions: res.Actions})
		}
		return err
	}
	if !human {
		return o.output.printObject(res, o.Out)
	}
	switch {
	case o.req.DryRun:
	case res.Unchanged:
		fmt.Fprintf(o.Out, "unchanged: live state matches %s\n", describeSets(res.Sets))
	default:
		fmt.Fprintf(o.Out, "applied %s: %d change(s)\n", describeSets(res.Sets), countDone(res))
	}
	printSetNotes(o.ErrOut, res)
	return nil
}

// planSet builds the clients (the issuer from the API server) and plans the request.
func (g *Globals) planSet(ctx context.Context, req setup.SetRequest, lock *lockFlags) (*setup.SetPlan, error) {
	p, err := g.newPodIdentity(ctx, "default")
	if err != nil {
		return nil, err
	}
	if lock != nil {
		if err := lock.apply(ctx, g, p.Setup); err != nil {
			return nil, err
		}
	}
	return p.PlanSet(ctx, req)
}

// setsOf are the documents' sets.
func setsOf(docs []identityset.Document) []identityset.IdentitySet {
	out := make([]identityset.IdentitySet, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.Set)
	}
	return out
}

func describeSets(sets []string) string {
	if len(sets) == 1 {
		return "set " + sets[0]
	}
	return fmt.Sprintf("%d sets %v", len(sets), sets)
}

// printChanges writes the actions that change something, in plan form, and how many are unchanged.
func printChanges(w io.Writer, res *api.SetResult) {
	same := 0
	for _, a := range res.Actions {
		if a.Op == "=" {
			same++
			continue
		}
		status := ""
		switch a.Status {
		case api.StatusRolledBack, api.StatusFailed:
			status = " [" + a.Status + "]"
		}
		fmt.Fprintf(w, "  %s %s: %s%s\n", a.Op, safetext.Short(a.Resource, maxNameRunes), safetext.Short(a.Detail, maxLineRunes), status)
	}
	fmt.Fprintf(w, "  (%d object(s) already as wanted)\n", same)
}

func countDone(res *api.SetResult) int {
	n := 0
	for _, a := range res.Actions {
		if a.Status == api.StatusDone {
			n++
		}
	}
	return n
}

// Bounds of one field of a human line of apply, diff and export (what a file, a cluster or IAM holds is
// hostile: a 1 MiB annotation must not become a 1 MiB line).
const (
	maxNameRunes = 300
	maxLineRunes = 1000
)

// printSetNotes writes the information and hints to stderr.
func printSetNotes(w io.Writer, res *api.SetResult) {
	for _, s := range res.Info {
		fmt.Fprintf(w, "note: %s\n", safetext.Short(s, maxLineRunes))
	}
	for _, h := range res.Hints {
		fmt.Fprintf(w, "hint: %s\n", safetext.Short(h, maxLineRunes))
	}
}
