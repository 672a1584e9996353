package plugin_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsapi/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/doctor"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/inspect"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin/plugintest"
)

// linked is the seed ServiceAccount annotated with role irsa-role, which trusts it, and the provider.
func linked() (*plugintest.Factory, string) {
	arn := "arn:aws:iam::" + fakeaws.Account + ":role/irsa-role"
	tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: arn}))
	tf.Cloud.IAM.AddRole("", "irsa-role", trusting(subject))
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, iamref.DefaultAudience)
	return tf, arn
}

func doctorReport(t *testing.T, out string) inspect.DoctorReport {
	t.Helper()
	var rep inspect.DoctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return rep
}

func finding(fs []doctor.Finding, id, target string) *doctor.Finding {
	for i := range fs {
		if fs[i].ID == id && strings.Contains(fs[i].Target, target) {
			return &fs[i]
		}
	}
	return nil
}

func TestIssuerFromEKS(t *testing.T) {
	tf := seed()
	out, errOut, code := tf.Run("issuer")
	if code != 0 || out != plugintest.Issuer+"\t(from eks-describe-cluster)\n" {
		t.Errorf("exit %d: %q %s", code, out, errOut)
	}
	tf.Cluster.Name = ""
	if out, _, code = tf.Run("issuer"); code != 0 || !strings.HasSuffix(out, "(from token-request)\n") {
		t.Errorf("no cluster name: exit %d, %q", code, out)
	}
	tf.NoTokens = true
	_, errOut, code = tf.Run("issuer")
	if code != 1 || !strings.Contains(errOut, "pass --eks-cluster and --region") {
		t.Errorf("no cluster name: exit %d, %s", code, errOut)
	}
}

func TestDoctorFindsTheIssuerThroughEKS(t *testing.T) {
	// The API server serves no discovery document: doctor must ask EKS, as every other command does.
	tf, _ := linked()
	out, errOut, code := tf.Run("doctor", saName, "-n", ns, "-o", "json")
	rep := doctorReport(t, out)
	if code != 0 || rep.Issuer != plugintest.Issuer || len(rep.Findings) != 0 {
		t.Errorf("exit %d, issuer %q, findings %+v, stderr %s", code, rep.Issuer, rep.Findings, errOut)
	}
}

func TestDoctorRoleAtAnotherPath(t *testing.T) {
	tf := seed()
	tf.Cloud.IAM.AddRole("/team/", "app", trusting(subject))
	tf.Cloud.IAM.AddProvider(plugintest.HostPath, iamref.DefaultAudience)
	tf.Kube.CoreV1().ServiceAccounts(ns).Update(t.Context(), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/app"}), metav1.UpdateOptions{})
	out, _, code := tf.Run("doctor", "-n", ns, "-o", "json")
	rep := doctorReport(t, out)
	f := finding(rep.Findings, doctor.RoleMissing, "role/app")
	if code != 1 || f == nil || !strings.Contains(f.Summary, "role/team/app") || !strings.Contains(f.Fix, "--role-arn arn:aws:iam::"+fakeaws.Account+":role/team/app") {
		t.Errorf("exit %d, findings %+v", code, rep.Findings)
	}
}

func TestDoctorUnreadableRoleIsNotAFinding(t *testing.T) {
	tf, _ := linked()
	tf.Cloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
	out, _, code := tf.Run("doctor", "-A", "-o", "json")
	rep := doctorReport(t, out)
	if code != 2 || len(rep.Findings) != 0 || !slices.ContainsFunc(rep.CouldNotCheck, func(n string) bool { return strings.Contains(n, "could not check role irsa-role") }) {
		t.Errorf("exit %d, findings %+v, couldNotCheck %v", code, rep.Findings, rep.CouldNotCheck)
	}
}

func TestDoctorUnreadablePolicyIsNotPermissionMissing(t *testing.T) {
	tf, _ := linked()
	tf.Cloud.IAM.PutInline("irsa-role", "kubectl-irsa", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	log := "User: arn:aws:sts::" + fakeaws.Account + ":assumed-role/irsa-role/botocore-session-1 is not authorized to perform: s3:ListBucket on resource: arn:aws:s3:::b\n"

	out, _, _ := tf.RunWithInput(log, "doctor", saName, "-n", ns, "--logs-file", "-", "-o", "json")
	if rep := doctorReport(t, out); finding(rep.Findings, doctor.PermissionMissing, "role/irsa-role") != nil {
		t.Fatalf("the inline policy allows s3:*, yet %+v", rep.Findings)
	}
	tf.Cloud.Fail("GetRolePolicy", fakeaws.AccessDenied("GetRolePolicy"))
	out, _, _ = tf.RunWithInput(log, "doctor", saName, "-n", ns, "--logs-file", "-", "-o", "json")
	rep := doctorReport(t, out)
	for _, f := range rep.Findings {
		if f.ID == doctor.PermissionMissing && f.Check == "iam" {
			t.Errorf("a policy that could not be read judged missing: %+v", f)
		}
	}
	if !slices.ContainsFunc(rep.CouldNotCheck, func(n string) bool {
		return strings.Contains(n, "permissions of role irsa-role") && strings.Contains(n, "AccessDenied")
	}) {
		t.Errorf("couldNotCheck = %v", rep.CouldNotCheck)
	}
}

func TestDoctorWithoutAWS(t *testing.T) {
	tf := plugintest.NewFactory(plugintest.Namespace(ns), plugintest.ServiceAccount(ns, saName, nil))
	tf.AWSErr = errors.New("no AWS region")
	_, errOut, code := tf.Run("doctor", saName, "-n", ns, "-o", "json")
	if code != 2 || !strings.Contains(errOut, "diagnosis could not run") || !strings.Contains(errOut, "no AWS configuration to call EKS with") {
		t.Errorf("exit %d, %s", code, errOut)
	}
}

func TestTestCommand(t *testing.T) {
	tf, arn := linked()
	out, errOut, code := tf.Run("test", saName, "-n", ns)
	if code != 0 || !strings.Contains(out, "PASS") || !strings.Contains(out, "assumed: arn:aws:sts::"+fakeaws.Account+":assumed-role/irsa-role/") || !strings.Contains(out, "-> role "+arn) {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	// A trust that names another ServiceAccount fails locally, whatever the emulated STS says.
	tf.Cloud.IAM.AddRole("", "irsa-role", trusting("system:serviceaccount:"+ns+":someone-else"))
	_, errOut, code = tf.Run("test", saName, "-n", ns)
	if code != 1 || !strings.Contains(errOut, "TrustMismatch") {
		t.Errorf("foreign trust: exit %d, %s", code, errOut)
	}
	tf2 := seed()
	_, errOut, code = tf2.Run("test", saName, "-n", ns)
	if code != 1 || !strings.Contains(errOut, "fix: kubectl irsa link "+saName+" -n "+ns) {
		t.Errorf("unannotated: exit %d, %s", code, errOut)
	}
}

func TestListReadsEveryPage(t *testing.T) {
	tf, _ := linked()
	tf.Cloud.PageSize = 1
	for i := range 3 {
		tf.Cloud.EKS.Associations = append(tf.Cloud.EKS.Associations, ekstypes.PodIdentityAssociation{AssociationId: aws.String(fmt.Sprint("a-", i)),
			Namespace: aws.String("pi"), ServiceAccount: aws.String(fmt.Sprint("sa-", i)), RoleArn: aws.String("arn:aws:iam::" + fakeaws.Account + ":role/irsa-role")})
	}
	out, errOut, code := tf.Run("list", "-A", "-o", "json")
	var res inspect.ListResult
	// The associations' role trusts no pods.eks.amazonaws.com: those rows show a problem (exit 1).
	if code != 1 || json.Unmarshal([]byte(out), &res) != nil || !strings.Contains(errOut, "3 of 4 rows show a problem: pi/sa-0") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	var rows []string
	for _, it := range res.Items {
		rows = append(rows, it.Namespace+"/"+it.ServiceAccount+" "+it.Source+" "+it.RoleExists+" "+it.TrustAdmits)
	}
	want := []string{ns + "/" + saName + " annotation yes yes", "pi/sa-0 pod-identity yes no", "pi/sa-1 pod-identity yes no", "pi/sa-2 pod-identity yes no"}
	if !slices.Equal(rows, want) {
		t.Errorf("rows = %q", rows)
	}
	if n := count(tf.Cloud.Calls(), "ListPodIdentityAssociations"); n != 3 {
		t.Errorf("%d pages of associations read, want 3", n)
	}
}

func TestListUnreadableRoleExits2(t *testing.T) {
	tf, _ := linked()
	tf.Cloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
	out, errOut, code := tf.Run("list", "-n", ns)
	if code != 2 || !strings.Contains(out, "unknown") || !strings.Contains(errOut, "could not check role irsa-role") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
}

func TestAuditReadsEveryPageAndKeepsUnreadableRoles(t *testing.T) {
	tf, arn := linked()
	tf.Cloud.PageSize = 1
	tf.Cloud.IAM.AddRole("", "a-unrelated", ec2Trust)
	wildcard := strings.Replace(trusting("system:serviceaccount:"+ns+":*"), "StringEquals", "StringLike", 1)
	tf.Cloud.IAM.AddRole("", "z-wildcard", wildcard)
	out, errOut, code := tf.Run("audit", "-A", "-o", "json")
	var rep inspect.AuditReport
	if json.Unmarshal([]byte(out), &rep) != nil || code != 0 || finding(rep.Findings, doctor.WildcardSubject, "role/z-wildcard") == nil ||
		!slices.Equal(rep.Roles, []string{arn, "arn:aws:iam::" + fakeaws.Account + ":role/z-wildcard"}) {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if n := count(tf.Cloud.Calls(), "ListRoles"); n != 3 {
		t.Errorf("%d pages of roles read, want 3", n)
	}
	// A referenced role whose reads are denied stays in the report, and the audit says it is incomplete.
	tf2, _ := linked()
	tf2.Cloud.IAM.AddRole("", "irsa-role", "")
	tf2.Cloud.Fail("GetRole", fakeaws.AccessDenied("GetRole"))
	out, errOut, code = tf2.Run("audit", "-n", ns, "-o", "json")
	rep = inspect.AuditReport{}
	if json.Unmarshal([]byte(out), &rep) != nil || code != 2 || !slices.Contains(rep.Roles, arn) || len(rep.CouldNotCheck) == 0 {
		t.Errorf("exit %d, roles %v, couldNotCheck %v: %s", code, rep.Roles, rep.CouldNotCheck, errOut)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	tf := seed()
	out, _, code := tf.Run("version", "-o", "json")
	var v map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["kind"] != "Version" || v["apiVersion"] != "irsa.kubectl-irsa.io/v1alpha1" {
		t.Errorf("version: exit %d, %s", code, out)
	}
	out, _, code = tf.Run("completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_kubectl-irsa") {
		t.Errorf("completion bash: exit %d, %.200s", code, out)
	}
	if _, errOut, code := tf.Run("completion", "tcsh"); code != 2 || !strings.Contains(errOut, "invalid argument") {
		t.Errorf("completion tcsh: exit %d, %s", code, errOut)
	}
	// ServiceAccount name completion lists the namespace's ServiceAccounts with their role.
	out, _, _ = tf.Run("__complete", "link", "-n", ns, "irsa")
	if !strings.Contains(out, saName+"\tnot linked to an IAM role") {
		t.Errorf("__complete: %s", out)
	}
}

// TestListExitStatus: list exits 1 when a row shows a problem (role missing, trust not admitting the
// ServiceAccount, annotation not a role ARN, pods not injected), naming the rows on stderr while stdout stays the
// table; 0 when every row is fine.
func TestListExitStatus(t *testing.T) {
	tf, _ := linked()
	out, errOut, code := tf.Run("list", "-n", ns)
	if code != 0 || errOut != "" || !strings.Contains(out, saName) {
		t.Fatalf("clean: exit %d\n%s%s", code, out, errOut)
	}
	for name, breakIt := range map[string]func(tf *plugintest.Factory){
		"role missing": func(tf *plugintest.Factory) {
			tf.Kube.CoreV1().ServiceAccounts(ns).Update(t.Context(), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: "arn:aws:iam::" + fakeaws.Account + ":role/gone"}), metav1.UpdateOptions{})
		},
		"trust admits another ServiceAccount": func(tf *plugintest.Factory) {
			tf.Cloud.IAM.AddRole("", "irsa-role", trusting("system:serviceaccount:"+ns+":someone-else"))
		},
		"annotation not an ARN": func(tf *plugintest.Factory) {
			tf.Kube.CoreV1().ServiceAccounts(ns).Update(t.Context(), plugintest.ServiceAccount(ns, saName, map[string]string{iamref.RoleARNAnnotation: "irsa-role"}), metav1.UpdateOptions{})
		},
		"pod not injected": func(tf *plugintest.Factory) {
			tf.Kube.CoreV1().Pods(ns).Create(t.Context(), &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "stale", Namespace: ns}, Spec: corev1.PodSpec{ServiceAccountName: saName, Containers: []corev1.Container{{Name: "app"}}}}, metav1.CreateOptions{})
		},
	} {
		tf, _ := linked()
		breakIt(tf)
		out, errOut, code := tf.Run("list", "-n", ns)
		if code != 1 || !strings.HasPrefix(out, "NAMESPACE") || !strings.Contains(out, saName) || strings.Count(errOut, "\n") != 1 ||
			!strings.Contains(errOut, "1 of 1 rows show a problem: "+ns+"/"+saName) {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// TestListOutputName: -o name prints serviceaccount/NAME once per ServiceAccount, as kubectl does; the other
// commands, whose results have no name, refuse -o name as a usage error.
func TestListOutputName(t *testing.T) {
	tf, arn := linked()
	tf.Cloud.EKS.Associations = []ekstypes.PodIdentityAssociation{{AssociationId: aws.String("a-1"), Namespace: aws.String(ns), ServiceAccount: aws.String(saName), RoleArn: aws.String(arn)},
		{AssociationId: aws.String("a-2"), Namespace: aws.String("other"), ServiceAccount: aws.String(saName), RoleArn: aws.String(arn)}}
	out, errOut, _ := tf.Run("list", "-A", "-o", "name")
	if want := "serviceaccount/" + saName + "\nserviceaccount/" + saName + "\n"; out != want {
		t.Errorf("list -A -o name = %q, want %q (stderr %s)", out, want, errOut)
	}
	for _, args := range [][]string{{"version", "-o", "name"}, {"doctor", "-A", "-o", "name"}, {"test", saName, "-n", ns, "-o", "name"}} {
		if out, errOut, code := tf.Run(args...); code != 2 || out != "" || !strings.Contains(errOut, `unsupported output format "name"`) {
			t.Errorf("%v: exit %d, %s%s", args, code, out, errOut)
		}
	}
}
