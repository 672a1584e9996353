package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// Fleet is a fleet of annotated ServiceAccounts on distinct roles, with pods: ServiceAccount j is in namespace
// j % Namespaces and annotated with role j % Roles; pod k runs as ServiceAccount k % ServiceAccounts. Each role
// trusts exactly its ServiceAccounts (StringEquals on sub and aud) and has one inline policy.
type Fleet struct {
	Prefix                                   string
	Namespaces, ServiceAccounts, Roles, Pods int
	// Workers bounds concurrent creates (IAM and Kubernetes).
	Workers int
}

func (f Fleet) namespace(sa int) string { return fmt.Sprintf("%s-%d", f.Prefix, sa%f.Namespaces) }
func (f Fleet) saName(sa int) string    { return fmt.Sprintf("sa-%05d", sa) }
func (f Fleet) roleName(r int) string   { return fmt.Sprintf("%s-role-%04d", f.Prefix, r) }

// RoleARN is the ARN of role r in the account.
func (f Fleet) RoleARN(account string, r int) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, f.roleName(r))
}

// Create creates the roles in IAM and the namespaces, ServiceAccounts and pods in Kubernetes, each kind with
// at most Workers creates in flight.
func (f Fleet) Create(ctx context.Context, kube kubernetes.Interface, iamClient *iam.Client, provider trust.Provider, account string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.Workers)
	for r := range f.Roles {
		g.Go(func() error {
			var subjects []string
			for sa := r; sa < f.ServiceAccounts; sa += f.Roles {
				subjects = append(subjects, fmt.Sprintf("%q", "system:serviceaccount:"+f.namespace(sa)+":"+f.saName(sa)))
			}
			doc := trust.New()
			doc.Statements = append(doc.Statements, []byte(fmt.Sprintf(`{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{%q:[%s],%q:"sts.amazonaws.com"}}}`,
				provider.ARN, provider.HostPath+":sub", strings.Join(subjects, ","), provider.HostPath+":aud")))
			name := aws.String(f.roleName(r))
			if _, err := iamClient.CreateRole(gctx, &iam.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: aws.String(doc.String())}); err != nil {
				return fmt.Errorf("create role %s: %w", *name, err)
			}
			_, err := iamClient.PutRolePolicy(gctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: aws.String("app"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)})
			return err
		})
	}
	for n := range f.Namespaces {
		g.Go(func() error {
			_, err := kube.CoreV1().Namespaces().Create(gctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", f.Prefix, n)}}, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(f.Workers)
	for sa := range f.ServiceAccounts {
		g.Go(func() error {
			obj := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: f.saName(sa), Namespace: f.namespace(sa),
				Annotations: map[string]string{"eks.amazonaws.com/role-arn": f.RoleARN(account, sa%f.Roles)}}}
			_, err := kube.CoreV1().ServiceAccounts(obj.Namespace).Create(gctx, obj, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(f.Workers)
	for k := range f.Pods {
		g.Go(func() error {
			sa := k % f.ServiceAccounts
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", k), Namespace: f.namespace(sa)},
				Spec: corev1.PodSpec{ServiceAccountName: f.saName(sa), Containers: []corev1.Container{{Name: "app", Image: "app:1"}}}}
			_, err := kube.CoreV1().Pods(pod.Namespace).Create(gctx, pod, metav1.CreateOptions{})
			return err
		})
	}
	return g.Wait()
}
