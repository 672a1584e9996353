package inspect

import (
	"context"
	"fmt"
	"io"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cluster"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/report"
)

// DoctorReport is the result of `kubectl irsa doctor`: report.Doctor (which the logs-only path of the plugin's
// entry prints without this package) with its kind.
type DoctorReport struct {
	metav1.TypeMeta `json:",inline"`
	report.Doctor
}

// DeepCopyObject implements runtime.Object.
func (r *DoctorReport) DeepCopyObject() runtime.Object { return api.DeepCopy(r) }

// NewDoctorReport returns an empty report.
func NewDoctorReport(scope string) *DoctorReport {
	return &DoctorReport{TypeMeta: api.TypeMeta("DoctorReport"), Doctor: report.NewDoctor(scope)}
}

func (in *Inspector) finish(rep *DoctorReport) *DoctorReport {
	rep.Notes, rep.CouldNotCheck = in.Notes(), in.Unchecked()
	return rep
}

// DoctorLogsOnly classifies a log stream and nothing else: no Kubernetes or AWS call (report.DoctorLogs).
func DoctorLogsOnly(r io.Reader, name string) (*DoctorReport, error) {
	body, err := report.DoctorLogs(r, name)
	if err != nil {
		return nil, err
	}
	return &DoctorReport{TypeMeta: api.TypeMeta("DoctorReport"), Doctor: body}, nil
}

// Subject builds doctor's snapshot of one ServiceAccount: the SA (nil when it does not exist), its pods, its
// role and provider (each read once per Inspector), and logs. A role or provider that could not be read is
// left out of the snapshot (a could-not-check note says so), so no rule judges it.
func (in *Inspector) Subject(ctx context.Context, sa *corev1.ServiceAccount, namespace, name string, pods []corev1.Pod, annotatedInNS []string, logs []logclass.Finding) doctor.Subject {
	s := doctor.Subject{SA: doctor.ServiceAccount{Namespace: namespace, Name: name}, AnnotatedInNamespace: slices.DeleteFunc(slices.Clone(annotatedInNS), func(n string) bool { return n == name }), Logs: logs}
	if sa != nil {
		s.SA.Exists, s.SA.Annotations = true, sa.Annotations
	}
	for _, p := range pods {
		s.Pods = append(s.Pods, doctor.Pod{Namespace: p.Namespace, Name: p.Name, Annotations: p.Annotations, Spec: p.Spec, Owner: podOwner(p), Labels: p.Labels, Created: p.CreationTimestamp.Time})
	}
	role, ok := annotatedRole(s.SA.Annotations)
	if !ok || in.IAM == nil {
		return s
	}
	needPolicies := slices.ContainsFunc(logs, func(f logclass.Finding) bool { return f.Action != "" })
	st := in.role(ctx, role, needPolicies, doctor.DeniedActions(logs))
	if st.unreadable {
		return s
	}
	s.Role = st.role
	if st.role.Found {
		s.Provider = in.provider(ctx, role.Partition, role.Account)
	}
	return s
}

// DoctorTarget diagnoses one target: live checks on it, its ServiceAccount, role and provider, plus its logs
// (from logs, named logsName, when given, else its containers' current and previous logs).
func (in *Inspector) DoctorTarget(ctx context.Context, t Target, logs io.Reader, logsName string, tail int64) (*DoctorReport, error) {
	rep := NewDoctorReport(t.Kind + "/" + t.Namespace + "/" + t.Name)
	rep.Issuer = in.Issuer
	saName, pods, err := in.ResolveTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	all, err := cluster.ListServiceAccounts(ctx, in.Kube, t.Namespace)
	if err != nil {
		return nil, err
	}
	var sa *corev1.ServiceAccount
	var annotated []string
	for i := range all {
		if all[i].Name == saName {
			sa = &all[i]
		}
		if all[i].Annotations[iamref.RoleARNAnnotation] != "" {
			annotated = append(annotated, all[i].Name)
		}
	}
	if sa == nil && t.Kind == "serviceaccount" {
		// Doctor was asked about a ServiceAccount that is not there: say so, rather than diagnose it.
		if err := in.requireNamespace(ctx, t.Namespace); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("serviceaccount %s not found in namespace %s: %w", saName, t.Namespace, ErrNotFound)
	}
	classifier := &logclass.Classifier{}
	var found []logclass.Finding
	if logs != nil {
		ls, err := report.ClassifyLogs(logs, logsName, classifier)
		if err != nil {
			return nil, err
		}
		found = ls.Findings
		for _, n := range ls.Notes {
			in.note(n)
		}
		if ls.CouldNotCheck != "" {
			in.noteUnchecked(ls.CouldNotCheck)
		}
	} else {
		found = in.PodLogs(ctx, pods, tail, classifier)
	}
	if slices.ContainsFunc(found, func(f logclass.Finding) bool { return f.ID == logclass.PermissionMissing }) {
		found = doctor.PromoteNodeRoles(found, in.NodeRoles(ctx))
	}
	subject := in.Subject(ctx, sa, t.Namespace, saName, pods, annotated, found)
	rep.Checked = append(rep.Checked, "serviceaccount/"+t.Namespace+"/"+saName)
	for _, p := range pods {
		rep.Checked = append(rep.Checked, "pod/"+p.Namespace+"/"+p.Name)
	}
	rep.Findings = in.diagnose(in.ClusterState(ctx, t.Namespace), subject)
	return in.finish(rep), nil
}

// DoctorScope diagnoses every annotated ServiceAccount of a namespace ("" for all) and the pods using them:
// two Kubernetes list calls for the scope, and one IAM read per distinct role and provider.
func (in *Inspector) DoctorScope(ctx context.Context, namespace string) (*DoctorReport, error) {
	rep := NewDoctorReport(scopeName(namespace))
	rep.Issuer = in.Issuer
	c := in.ClusterState(ctx, namespace)
	sas, pods, err := in.scanScope(ctx, namespace, c.PodIdentity)
	if err != nil {
		return nil, err
	}
	if in.IAM != nil {
		in.prefetchRoles(ctx, annotatedARNs(sas), false)
	}
	var findings []doctor.Finding
	byServiceAccount := IndexPods(pods)
	for i := range sas {
		sa := &sas[i]
		subject := in.Subject(ctx, sa, sa.Namespace, sa.Name, byServiceAccount.Of(sa.Namespace, sa.Name), nil, nil)
		rep.Checked = append(rep.Checked, "serviceaccount/"+sa.Namespace+"/"+sa.Name)
		findings = append(findings, in.diagnose(c, subject)...)
	}
	rep.Findings = doctor.Merge(findings)
	return in.finish(rep), nil
}

func scopeName(namespace string) string {
	if namespace == "" {
		return "all namespaces"
	}
	return "namespace " + namespace
}

// annotatedARNs returns the role annotations of the ServiceAccounts.
func annotatedARNs(sas []corev1.ServiceAccount) []string {
	var out []string
	for _, sa := range sas {
		if a := sa.Annotations[iamref.RoleARNAnnotation]; a != "" {
			out = append(out, a)
		}
	}
	return out
}
