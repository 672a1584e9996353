package irsa

import (
	"context"
	"io"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
)

// DoctorReport is the result of `kubectl irsa doctor`.
type DoctorReport struct {
	metav1.TypeMeta `json:",inline"`
	// Scope is what was diagnosed: a target, a namespace, all namespaces, or a logs file.
	Scope    string           `json:"scope"`
	Issuer   string           `json:"issuer,omitempty"`
	Checked  []string         `json:"checked"`
	Findings []doctor.Finding `json:"findings"`
	Notes    []string         `json:"notes,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *DoctorReport) DeepCopyObject() runtime.Object { return deepCopy(r) }

// NewDoctorReport returns an empty report.
func NewDoctorReport(scope string) *DoctorReport {
	return &DoctorReport{TypeMeta: typeMeta("DoctorReport"), Scope: scope, Checked: []string{}, Findings: []doctor.Finding{}}
}

// DoctorLogsOnly classifies a log stream and nothing else: no Kubernetes or AWS call.
func DoctorLogsOnly(r io.Reader, name string) (*DoctorReport, error) {
	logs, err := ClassifyLogs(r, &logclass.Classifier{})
	if err != nil {
		return nil, err
	}
	rep := NewDoctorReport("logs " + name)
	rep.Checked = append(rep.Checked, "logs "+name)
	rep.Findings = append(rep.Findings, doctor.LogFindings(logs, "logs")...)
	return rep, nil
}

// DoctorTarget diagnoses one target: live checks on it, its ServiceAccount, role and provider, plus its logs
// (from logs when given, else its containers' current and previous logs).
func (in *Inspector) DoctorTarget(ctx context.Context, t Target, logs io.Reader, tail int64) (*DoctorReport, error) {
	rep := NewDoctorReport(t.Kind + "/" + t.Namespace + "/" + t.Name)
	rep.Issuer = in.Issuer
	saName, pods, err := in.ResolveTarget(ctx, t)
	if err != nil {
		return nil, err
	}
	var sa *corev1.ServiceAccount
	all, err := in.Kube.CoreV1().ServiceAccounts(t.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var annotated []string
	for i := range all.Items {
		if all.Items[i].Name == saName {
			sa = &all.Items[i]
		}
		if all.Items[i].Annotations[RoleARNAnnotation] != "" {
			annotated = append(annotated, all.Items[i].Name)
		}
	}
	classifier := &logclass.Classifier{}
	var found []logclass.Finding
	if logs != nil {
		if found, err = ClassifyLogs(logs, classifier); err != nil {
			return nil, err
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
	rep.Findings = doctor.Diagnose(in.ClusterState(ctx, t.Namespace), subject)
	rep.Notes = in.Notes
	return rep, nil
}

// DoctorScope diagnoses every annotated ServiceAccount of a namespace ("" for all) and the pods using them:
// two Kubernetes list calls for the scope, and one IAM read per distinct role and provider.
func (in *Inspector) DoctorScope(ctx context.Context, namespace string) (*DoctorReport, error) {
	scope := "namespace " + namespace
	if namespace == "" {
		scope = "all namespaces"
	}
	rep := NewDoctorReport(scope)
	rep.Issuer = in.Issuer
	sas, pods, err := in.ScanScope(ctx, namespace)
	if err != nil {
		return nil, err
	}
	cluster := in.ClusterState(ctx, namespace)
	var findings []doctor.Finding
	for i := range sas {
		sa := &sas[i]
		subject := in.Subject(ctx, sa, sa.Namespace, sa.Name, PodsOf(pods, sa.Namespace, sa.Name), nil, nil)
		rep.Checked = append(rep.Checked, "serviceaccount/"+sa.Namespace+"/"+sa.Name)
		findings = append(findings, doctor.Diagnose(cluster, subject)...)
	}
	rep.Findings = doctor.Merge(findings)
	rep.Notes = in.Notes
	return rep, nil
}
