package inspect

import (
	"context"
	"fmt"
	"io"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/suggest"
)

// SuggestLogs suggests the identity policy of role ("" for the only role the log names) from the denials of a
// log stream: no Kubernetes or AWS call.
func SuggestLogs(r io.Reader, name, role string) (*api.PolicySuggestion, error) {
	ls, err := report.ClassifyLogs(r, name, &logclass.Classifier{})
	if err != nil {
		return nil, err
	}
	return suggestFrom(ls, role)
}

func suggestFrom(ls report.LogScan, role string) (*api.PolicySuggestion, error) {
	s, err := suggest.Policy(suggest.FromFindings(ls.Findings), role)
	if err != nil {
		return nil, err
	}
	s.Notes = append(s.Notes, ls.Notes...)
	if ls.CouldNotCheck != "" {
		s.Notes = append(s.Notes, ls.CouldNotCheck)
	}
	return s, nil
}

// SuggestedTarget is a suggestion for a target's ServiceAccount and the role it is annotated with.
type SuggestedTarget struct {
	Namespace, ServiceAccount string
	// RoleARN is the ServiceAccount's role annotation ("" when it has none).
	RoleARN string
}

// SuggestTarget suggests the identity policy of a target's role from its logs (logs, named logsName, when given,
// else its containers' current and previous logs): the role its ServiceAccount is annotated with, else the only
// role the logs name. Denials of the cluster's node roles are read as node-role fallbacks.
func (in *Inspector) SuggestTarget(ctx context.Context, t Target, logs io.Reader, logsName string, tail int64) (*api.PolicySuggestion, SuggestedTarget, error) {
	saName, pods, err := in.ResolveTarget(ctx, t)
	if err != nil {
		return nil, SuggestedTarget{}, err
	}
	st := SuggestedTarget{Namespace: t.Namespace, ServiceAccount: saName}
	sas, err := cluster.ListServiceAccounts(ctx, in.Kube, t.Namespace)
	if err != nil {
		return nil, st, err
	}
	role := ""
	for _, sa := range sas {
		if sa.Name == saName {
			if r, ok := annotatedRole(sa.Annotations); ok {
				st.RoleARN, role = r.ARN, r.Name
			}
		}
	}
	classifier := &logclass.Classifier{}
	var ls report.LogScan
	if logs != nil {
		if ls, err = report.ClassifyLogs(logs, logsName, classifier); err != nil {
			return nil, st, err
		}
	} else {
		ls.Findings = in.PodLogs(ctx, pods, tail, classifier)
		ls.Notes = append(ls.Notes, in.Notes()...)
	}
	ls.Findings = doctor.PromoteNodeRoles(ls.Findings, in.NodeRoles(ctx))
	s, err := suggestFrom(ls, role)
	if err != nil {
		return nil, st, fmt.Errorf("serviceaccount %s/%s: %w", t.Namespace, saName, err)
	}
	return s, st, nil
}
