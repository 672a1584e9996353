package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/safetext"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/suggest"
)

// suggestedPolicyFile is the file name the printed link command reads the policy from.
const suggestedPolicyFile = "policy.json"

// runSuggest prints the identity policy that allows the calls the role was denied: the policy document on
// stdout (a file for link --policy-file), the link command and what no policy can fix on stderr; -o prints the
// typed PolicySuggestion. Exit status 0 when a policy was printed, 1 when no policy can fix what the log
// shows, 2 when the suggestion could not be made.
func (o *DoctorOptions) runSuggest(ctx context.Context) error {
	s, err := o.suggest(ctx)
	if err != nil {
		var several *suggest.SeveralRolesError
		if errors.As(err, &several) {
			err = fmt.Errorf("%w: give the ServiceAccount (kubectl irsa doctor SA -n NS --logs-file FILE --suggest-policy) or keep one role's lines in the log", err)
		}
		return &ExitError{Code: 2, Err: fmt.Errorf("cannot suggest a policy: %w", err)}
	}
	if !o.output.human() {
		if err := o.output.printObject(s, o.Out); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	} else if err := printSuggestion(o.Out, o.ErrOut, s); err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if s.Policy == nil {
		return &ExitError{Code: 1, Err: errors.New("no identity policy can fix the denials in the log (see above)")}
	}
	return nil
}

func (o *DoctorOptions) suggest(ctx context.Context) (*api.PolicySuggestion, error) {
	logs, name, closeLogs, err := o.openLogs()
	if err != nil {
		return nil, err
	}
	defer closeLogs()
	if o.logsOnly {
		s, err := inspect.SuggestLogs(logs, name, "")
		if err == nil {
			s.LinkCommand = linkCommand(s, inspect.SuggestedTarget{})
		}
		return s, err
	}
	in, err := o.inspector(ctx, false)
	if err != nil {
		return nil, err
	}
	s, target, err := in.SuggestTarget(ctx, *o.target, logs, name, o.tail)
	if err != nil {
		return nil, err
	}
	s.LinkCommand = linkCommand(s, target)
	return s, nil
}

// linkCommand is the link that applies the suggested policy, saved as policy.json, to the target's
// ServiceAccount (placeholders when the log alone was read); "" without a policy.
func linkCommand(s *api.PolicySuggestion, t inspect.SuggestedTarget) string {
	if s.Policy == nil {
		return ""
	}
	sa, ns := "SERVICEACCOUNT", "NAMESPACE"
	if t.ServiceAccount != "" {
		sa, ns = t.ServiceAccount, t.Namespace
	}
	role := "--role-name ROLE"
	switch {
	case t.RoleARN != "":
		role = "--role-arn " + t.RoleARN
	case iamref.ValidateRoleName(s.Role) == nil:
		role = "--role-name " + s.Role
	}
	return fmt.Sprintf("kubectl irsa link %s -n %s %s --policy-file %s", sa, ns, role, suggestedPolicyFile)
}

// printSuggestion writes the policy document to out, and to errOut the calls it leaves out with why, the notes
// and the link command.
func printSuggestion(out, errOut io.Writer, s *api.PolicySuggestion) error {
	if s.Policy != nil {
		doc, err := suggest.Document(s.Policy)
		if err != nil {
			return err
		}
		if _, err := out.Write(doc); err != nil {
			return err
		}
	}
	for _, d := range s.Denials {
		if d.Fix == api.FixIdentityPolicy {
			continue
		}
		call := d.Action
		if d.Resource != "" {
			call += " on " + d.Resource
		}
		fmt.Fprintf(errOut, "not in the policy: %s (log line %d): %s\n", safetext.String(call), d.Line, safetext.String(d.Reason))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(errOut, "note: %s\n", safetext.String(n))
	}
	if s.LinkCommand != "" {
		fmt.Fprintf(errOut, "hint: save the policy above as %s and apply it with:\n  %s\n", suggestedPolicyFile, safetext.String(s.LinkCommand))
		fmt.Fprintln(errOut, "hint: link --policy-file replaces the statements this ServiceAccount owns in the role's inline policy kubectl-irsa: "+
			"add the ones it needs besides these to the file first")
	}
	return nil
}

// validateSuggest checks that --suggest-policy has one role's logs to read.
func (o *DoctorOptions) validateSuggest(args []string) error {
	switch {
	case !o.suggestPolicy:
		return nil
	case o.allNamespaces || len(args) == 0 && !o.logsOnly:
		return errors.New("--suggest-policy reads one role's denials: give a target or --logs-file alone, not a namespace scan")
	}
	return nil
}
