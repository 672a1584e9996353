package irsa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/logclass"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// InspectIAMAPI is the part of IAM that doctor, test and list read.
type InspectIAMAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, optFns ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, optFns ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

// InspectEKSAPI is the part of EKS that doctor reads: Pod Identity associations and node access entries.
type InspectEKSAPI interface {
	ListPodIdentityAssociations(ctx context.Context, in *eks.ListPodIdentityAssociationsInput, optFns ...func(*eks.Options)) (*eks.ListPodIdentityAssociationsOutput, error)
	DescribePodIdentityAssociation(ctx context.Context, in *eks.DescribePodIdentityAssociationInput, optFns ...func(*eks.Options)) (*eks.DescribePodIdentityAssociationOutput, error)
	ListAccessEntries(ctx context.Context, in *eks.ListAccessEntriesInput, optFns ...func(*eks.Options)) (*eks.ListAccessEntriesOutput, error)
	DescribeAccessEntry(ctx context.Context, in *eks.DescribeAccessEntryInput, optFns ...func(*eks.Options)) (*eks.DescribeAccessEntryOutput, error)
}

// Inspector reads the live state doctor's rules need, with a constant number of Kubernetes list calls per
// scope and each distinct role and provider read once.
type Inspector struct {
	Kube kubernetes.Interface
	// IAM and EKS may be nil: the AWS checks are then skipped and a note says so.
	IAM     InspectIAMAPI
	EKS     InspectEKSAPI
	Cluster ClusterRef
	Issuer  string

	mu        sync.Mutex
	roles     map[string]*doctor.Role
	providers map[string]*doctor.Provider
	// Notes say which checks could not run, and how PermissionMissing was decided.
	Notes []string
}

// Target is what doctor is asked about: KIND/NAME (serviceaccount, pod, deployment, statefulset, daemonset,
// job, cronjob) in a namespace.
type Target struct {
	Kind, Namespace, Name string
}

// ParseTarget reads SA, pod/NAME, deployment/NAME ... (a bare name is a ServiceAccount).
func ParseTarget(s, namespace string) (Target, error) {
	kind, name, found := strings.Cut(s, "/")
	if !found {
		kind, name = "serviceaccount", s
	}
	switch strings.ToLower(kind) {
	case "sa", "serviceaccount", "serviceaccounts":
		kind = "serviceaccount"
	case "po", "pod", "pods":
		kind = "pod"
	case "deploy", "deployment", "deployments":
		kind = "deployment"
	case "sts", "statefulset", "statefulsets":
		kind = "statefulset"
	case "ds", "daemonset", "daemonsets":
		kind = "daemonset"
	case "job", "jobs":
		kind = "job"
	case "cj", "cronjob", "cronjobs":
		kind = "cronjob"
	default:
		return Target{}, fmt.Errorf("cannot diagnose %q: give a ServiceAccount name or pod/, deployment/, statefulset/, daemonset/, job/ or cronjob/NAME", s)
	}
	if name == "" {
		return Target{}, fmt.Errorf("%q has no name", s)
	}
	return Target{Kind: kind, Namespace: namespace, Name: name}, nil
}

// ResolveTarget returns the ServiceAccount a target runs as and the target's pods.
func (in *Inspector) ResolveTarget(ctx context.Context, t Target) (string, []corev1.Pod, error) {
	core, apps, batch := in.Kube.CoreV1(), in.Kube.AppsV1(), in.Kube.BatchV1()
	get := metav1.GetOptions{}
	var sa string
	var selector *metav1.LabelSelector
	var err error
	switch t.Kind {
	case "serviceaccount":
		pods, err := core.Pods(t.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", nil, fmt.Errorf("list pods in %s: %w", t.Namespace, err)
		}
		return t.Name, slices.DeleteFunc(pods.Items, func(p corev1.Pod) bool { return podServiceAccount(&p.Spec) != t.Name }), nil
	case "pod":
		p, err := core.Pods(t.Namespace).Get(ctx, t.Name, get)
		if err != nil {
			return "", nil, notFoundHint(err, t)
		}
		return podServiceAccount(&p.Spec), []corev1.Pod{*p}, nil
	case "deployment":
		d, e := apps.Deployments(t.Namespace).Get(ctx, t.Name, get)
		if err = e; e == nil {
			sa, selector = podServiceAccount(&d.Spec.Template.Spec), d.Spec.Selector
		}
	case "statefulset":
		s, e := apps.StatefulSets(t.Namespace).Get(ctx, t.Name, get)
		if err = e; e == nil {
			sa, selector = podServiceAccount(&s.Spec.Template.Spec), s.Spec.Selector
		}
	case "daemonset":
		d, e := apps.DaemonSets(t.Namespace).Get(ctx, t.Name, get)
		if err = e; e == nil {
			sa, selector = podServiceAccount(&d.Spec.Template.Spec), d.Spec.Selector
		}
	case "job":
		j, e := batch.Jobs(t.Namespace).Get(ctx, t.Name, get)
		if err = e; e == nil {
			sa, selector = podServiceAccount(&j.Spec.Template.Spec), j.Spec.Selector
		}
	case "cronjob":
		c, e := batch.CronJobs(t.Namespace).Get(ctx, t.Name, get)
		if err = e; e == nil {
			sa = podServiceAccount(&c.Spec.JobTemplate.Spec.Template.Spec)
		}
	}
	if err != nil {
		return "", nil, notFoundHint(err, t)
	}
	opts := metav1.ListOptions{}
	if selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return "", nil, err
		}
		opts.LabelSelector = sel.String()
	}
	pods, err := core.Pods(t.Namespace).List(ctx, opts)
	if err != nil {
		return "", nil, fmt.Errorf("list pods of %s/%s: %w", t.Kind, t.Name, err)
	}
	items := pods.Items
	if t.Kind == "cronjob" {
		items = slices.DeleteFunc(items, func(p corev1.Pod) bool {
			return !strings.HasPrefix(p.Labels["job-name"], t.Name+"-") || podServiceAccount(&p.Spec) != sa
		})
	}
	return sa, items, nil
}

func notFoundHint(err error, t Target) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s not found in namespace %s: check the name and -n", t.Kind, t.Name, t.Namespace)
	}
	return fmt.Errorf("read %s/%s: %w", t.Kind, t.Name, err)
}

// Subject builds doctor's snapshot of one ServiceAccount: the SA (read with one GET unless given), its pods,
// its role and provider (each read once per Inspector), and logs.
func (in *Inspector) Subject(ctx context.Context, sa *corev1.ServiceAccount, namespace, name string, pods []corev1.Pod, annotatedInNS []string, logs []logclass.Finding) doctor.Subject {
	s := doctor.Subject{SA: doctor.ServiceAccount{Namespace: namespace, Name: name}, AnnotatedInNamespace: slices.DeleteFunc(slices.Clone(annotatedInNS), func(n string) bool { return n == name }), Logs: logs}
	if sa != nil {
		s.SA.Exists, s.SA.Annotations = true, sa.Annotations
	}
	for _, p := range pods {
		s.Pods = append(s.Pods, doctor.Pod{Namespace: p.Namespace, Name: p.Name, Annotations: p.Annotations, Spec: p.Spec, Owner: podOwner(p)})
	}
	roleARN := strings.TrimSpace(s.SA.Annotations[RoleARNAnnotation])
	role, err := ParseRoleARN(roleARN)
	if err != nil || in.IAM == nil {
		return s
	}
	needPolicies := slices.ContainsFunc(logs, func(f logclass.Finding) bool { return f.Action != "" })
	s.Role = in.role(ctx, role, needPolicies, doctor.DeniedActions(logs))
	if s.Role.Found {
		s.Provider = in.provider(ctx, role.Partition, role.Account)
	}
	return s
}

// podOwner names the workload that owns a pod, as kubectl rollout takes it.
func podOwner(p corev1.Pod) string {
	for _, o := range p.OwnerReferences {
		switch o.Kind {
		case "ReplicaSet":
			if i := strings.LastIndex(o.Name, "-"); i > 0 {
				return "deployment/" + o.Name[:i]
			}
		case "StatefulSet", "DaemonSet", "Job":
			return strings.ToLower(o.Kind) + "/" + o.Name
		}
	}
	return ""
}

// role reads a role once (GetRole), and its identity policies when the logs show denied actions.
func (in *Inspector) role(ctx context.Context, r RoleARN, withPolicies bool, actions []string) *doctor.Role {
	in.mu.Lock()
	if in.roles == nil {
		in.roles = map[string]*doctor.Role{}
	}
	cached := in.roles[r.ARN]
	in.mu.Unlock()
	if cached != nil && (!withPolicies || cached.Policies != nil || !cached.Found) {
		return cached
	}
	out := cached
	if out == nil {
		out = &doctor.Role{ARN: r.ARN, Name: r.Name, Account: r.Account}
		res, err := in.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.Name)})
		switch {
		case IsNotFound(err):
		case err != nil:
			out.Err = AWSError(err).Error()
		default:
			out.Found = true
			if out.Trust, err = trust.Parse(aws.ToString(res.Role.AssumeRolePolicyDocument)); err != nil {
				out.Err = err.Error()
			}
		}
	}
	if withPolicies && out.Found {
		out.Policies, out.Simulated = in.policies(ctx, r, actions)
	}
	in.mu.Lock()
	in.roles[r.ARN] = out
	in.mu.Unlock()
	return out
}

// policies asks iam:SimulatePrincipalPolicy first; where that is not available (as in moto), it reads the
// inline and attached managed policies for local evaluation. A note says which.
func (in *Inspector) policies(ctx context.Context, r RoleARN, actions []string) ([]string, map[string]bool) {
	sim, err := in.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(r.ARN), ActionNames: actions},
		func(o *iam.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		decisions := map[string]bool{}
		for _, e := range sim.EvaluationResults {
			decisions[aws.ToString(e.EvalActionName)] = e.EvalDecision == "allowed"
		}
		in.note(fmt.Sprintf("permissions of role %s decided by iam:SimulatePrincipalPolicy", r.Name))
		return []string{}, decisions
	}
	in.note(fmt.Sprintf("iam:SimulatePrincipalPolicy unavailable for role %s (%v): permissions evaluated locally from its policies", r.Name, AWSError(err)))
	docs, _ := in.policyDocuments(ctx, r)
	return docs, nil
}

func decodePolicy(s string) string {
	if d, err := url.QueryUnescape(s); err == nil && strings.HasPrefix(strings.TrimSpace(s), "%") {
		return d
	}
	return s
}

// provider reads the OIDC provider of the issuer in an account once.
func (in *Inspector) provider(ctx context.Context, partition, account string) *doctor.Provider {
	p := trust.NewProvider(partition, account, in.Issuer)
	in.mu.Lock()
	if in.providers == nil {
		in.providers = map[string]*doctor.Provider{}
	}
	cached := in.providers[p.ARN]
	in.mu.Unlock()
	if cached != nil {
		return cached
	}
	out := &doctor.Provider{ARN: p.ARN}
	res, err := in.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(p.ARN)})
	switch {
	case IsNotFound(err):
	case err != nil:
		out.Err = AWSError(err).Error()
	default:
		out.Found, out.ClientIDs = true, res.ClientIDList
	}
	in.mu.Lock()
	in.providers[p.ARN] = out
	in.mu.Unlock()
	return out
}

func (in *Inspector) note(s string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !slices.Contains(in.Notes, s) {
		in.Notes = append(in.Notes, s)
	}
}

// ClusterState reads cluster-wide facts: whether a pod identity webhook is installed, and the EKS Pod Identity
// associations of the given namespace ("" for all). What cannot be read stays unknown, with a note.
func (in *Inspector) ClusterState(ctx context.Context, namespace string) doctor.Cluster {
	c := doctor.Cluster{Issuer: in.Issuer}
	hooks, err := in.Kube.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		in.note("cannot list MutatingWebhookConfigurations, webhook check skipped: " + err.Error())
	} else {
		installed := slices.ContainsFunc(hooks.Items, func(h admissionMWC) bool {
			if strings.Contains(h.Name, "pod-identity-webhook") {
				return true
			}
			return slices.ContainsFunc(h.Webhooks, func(w admissionWebhook) bool { return strings.Contains(w.Name, "iam-for-pods") })
		})
		c.WebhookInstalled = &installed
	}
	if in.EKS != nil && in.Cluster.Name != "" {
		input := &eks.ListPodIdentityAssociationsInput{ClusterName: aws.String(in.Cluster.Name)}
		if namespace != "" {
			input.Namespace = aws.String(namespace)
		}
		out, err := in.EKS.ListPodIdentityAssociations(ctx, input, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
		if err != nil {
			in.note("EKS Pod Identity associations not checked: " + AWSError(err).Error())
		} else {
			c.PodIdentity = map[string]bool{}
			for _, a := range out.Associations {
				c.PodIdentity[aws.ToString(a.Namespace)+"/"+aws.ToString(a.ServiceAccount)] = true
			}
		}
	}
	return c
}

// NodeRoles returns the role names of the cluster's nodes: aws-auth mapRoles entries in group system:nodes,
// and EKS access entries of type EC2_LINUX (or EC2_WINDOWS).
func (in *Inspector) NodeRoles(ctx context.Context) map[string]bool {
	roles := map[string]bool{}
	cm, err := in.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "aws-auth", metav1.GetOptions{})
	if err == nil {
		var entries []struct {
			RoleARN string   `json:"rolearn"`
			Groups  []string `json:"groups"`
		}
		if yaml.Unmarshal([]byte(cm.Data["mapRoles"]), &entries) == nil {
			for _, e := range entries {
				if slices.Contains(e.Groups, "system:nodes") {
					if a, err := arn.Parse(e.RoleARN); err == nil {
						roles[a.Resource[strings.LastIndex(a.Resource, "/")+1:]] = true
					}
				}
			}
		}
	}
	if in.EKS != nil && in.Cluster.Name != "" {
		list, err := in.EKS.ListAccessEntries(ctx, &eks.ListAccessEntriesInput{ClusterName: aws.String(in.Cluster.Name)}, func(o *eks.Options) { o.RetryMaxAttempts = 1 })
		if err == nil {
			for _, principal := range list.AccessEntries {
				d, err := in.EKS.DescribeAccessEntry(ctx, &eks.DescribeAccessEntryInput{ClusterName: aws.String(in.Cluster.Name), PrincipalArn: aws.String(principal)})
				if err == nil && d.AccessEntry != nil && strings.HasPrefix(aws.ToString(d.AccessEntry.Type), "EC2") {
					if a, err := arn.Parse(principal); err == nil {
						roles[a.Resource[strings.LastIndex(a.Resource, "/")+1:]] = true
					}
				}
			}
		}
	}
	return roles
}

// PodLogs classifies the current and previous logs (last tail lines) of every container of the pods.
// Logs that cannot be read (a pod not running) are skipped with a note.
func (in *Inspector) PodLogs(ctx context.Context, pods []corev1.Pod, tail int64, classifier *logclass.Classifier) []logclass.Finding {
	var out []logclass.Finding
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			for _, previous := range []bool{false, true} {
				opts := &corev1.PodLogOptions{Container: c.Name, Previous: previous}
				if tail > 0 {
					opts.TailLines = &tail
				}
				stream, err := in.Kube.CoreV1().Pods(p.Namespace).GetLogs(p.Name, opts).Stream(ctx)
				if err != nil {
					if !previous {
						in.note(fmt.Sprintf("logs of %s/%s container %s not available: %v", p.Namespace, p.Name, c.Name, shortKubeError(err)))
					}
					continue
				}
				_ = classifier.Scan(stream, func(f logclass.Finding) { out = append(out, f) })
				stream.Close()
			}
		}
	}
	return out
}

// ClassifyLogs reads a whole log stream.
func ClassifyLogs(r io.Reader, classifier *logclass.Classifier) ([]logclass.Finding, error) {
	var out []logclass.Finding
	err := classifier.Scan(r, func(f logclass.Finding) { out = append(out, f) })
	return out, err
}

func shortKubeError(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return err.Error()
}

// ScanScope lists the ServiceAccounts and pods of a namespace ("" for all) with one list call each, and
// returns the ServiceAccounts doctor and list look at: those with a role annotation, or an annotation key
// that looks like a misspelt one.
func (in *Inspector) ScanScope(ctx context.Context, namespace string) ([]corev1.ServiceAccount, []corev1.Pod, error) {
	sas, err := in.Kube.CoreV1().ServiceAccounts(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list serviceaccounts: %w", err)
	}
	pods, err := in.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list pods: %w", err)
	}
	var out []corev1.ServiceAccount
	for _, sa := range sas.Items {
		for key := range sa.Annotations {
			if key == RoleARNAnnotation || strings.Contains(strings.ToLower(key), "role-arn") || strings.Contains(strings.ToLower(key), "rolearn") {
				out = append(out, sa)
				break
			}
		}
	}
	return out, pods.Items, nil
}

// PodsOf returns the pods that run as the ServiceAccount.
func PodsOf(pods []corev1.Pod, namespace, name string) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range pods {
		if p.Namespace == namespace && podServiceAccount(&p.Spec) == name {
			out = append(out, p)
		}
	}
	return out
}

type (
	admissionMWC     = admissionregistrationv1.MutatingWebhookConfiguration
	admissionWebhook = admissionregistrationv1.MutatingWebhook
)
