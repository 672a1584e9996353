package setup

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/api"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iamref"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/steps"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// The step builders below are shared by link, link --pod-identity, unlink and apply -f: one way to write each
// kind of object, with its undo.

// providerStep makes the cluster's IAM OIDC provider exist with audience as a client ID: created (deleted again
// on rollback unless used), a client ID added, or unchanged.
func (s *Setup) providerStep(st ProviderState, audience, thumbprint string) *steps.Step {
	host := "oidc-provider/" + st.Provider.HostPath
	arn := st.Provider.ARN
	switch {
	case !st.Exists:
		return &steps.Step{
			Action: api.Action{Op: "+", Resource: host, Detail: "create OIDC provider with client ID " + audience, Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				return CreateProviderStep(ctx, s.IAM, s.Issuer, arn, audience, thumbprint)
			},
			Undo: func(ctx context.Context) error { return DeleteProviderIfUnused(ctx, s.IAM, arn) }, UndoWhat: "delete OIDC provider " + arn,
		}
	case st.MissingClientID != "":
		clientID := st.MissingClientID
		return &steps.Step{
			Action: api.Action{Op: "~", Resource: host, Detail: "add client ID " + clientID, Status: api.StatusPlanned},
			Do:     func(ctx context.Context) error { return AddClientID(ctx, s.IAM, arn, clientID) },
			Undo: func(ctx context.Context) error {
				_, err := s.IAM.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{
					OpenIDConnectProviderArn: aws.String(arn), ClientID: aws.String(clientID)})
				return err
			},
			UndoWhat: "remove client ID " + clientID + " from OIDC provider",
		}
	}
	return &steps.Step{Action: api.Action{Op: "=", Resource: host, Detail: "OIDC provider exists", Status: api.StatusUnchanged}}
}

// annotationChange is what a ServiceAccount's annotations must become: RoleARN ("" leaves the role annotation
// alone unless Remove lists it), Extra annotations to set, and annotations to Remove.
type annotationChange struct {
	RoleARN string
	// ARN, when set, gives the role ARN at run time (IAM's answer once the role is written).
	ARN    func() string
	Extra  map[string]string
	Remove []string
}

// wanted are the annotation values the change writes (nil: removed).
func (c annotationChange) wanted() map[string]*string {
	out := map[string]*string{}
	if c.RoleARN != "" {
		v := c.RoleARN
		if c.ARN != nil {
			v = c.ARN()
		}
		out[iamref.RoleARNAnnotation] = &v
	}
	for k, v := range c.Extra {
		out[k] = &v
	}
	for _, k := range c.Remove {
		out[k] = nil
	}
	return out
}

// describe names the change: "annotate K=V and K2=V2", "remove annotation K".
func (c annotationChange) describe() string {
	var set, gone []string
	if c.RoleARN != "" {
		set = append(set, iamref.RoleARNAnnotation+"="+c.RoleARN)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Extra)) {
		set = append(set, k+"="+c.Extra[k])
	}
	gone = append(gone, c.Remove...)
	var parts []string
	if len(set) > 0 {
		parts = append(parts, "annotate "+strings.Join(set, " and "))
	}
	if len(gone) > 0 {
		parts = append(parts, "remove annotation "+strings.Join(gone, " and "))
	}
	return strings.Join(parts, "; ")
}

// annotationStep writes the change to the ServiceAccount sa (created with the annotations when it does not
// exist); the undo puts back the values it had (a created ServiceAccount is left: it holds nothing else).
func annotationStep(kube kubernetes.Interface, sa serviceAccountState, op string, c annotationChange) *steps.Step {
	res := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	if !sa.Exists {
		return &steps.Step{
			Action: api.Action{Op: "+", Resource: res, Detail: "create with " + strings.TrimPrefix(c.describe(), "annotate "), Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				return createServiceAccount(ctx, kube, sa.Namespace, sa.Name, c.wanted())
			},
		}
	}
	old := map[string]*string{}
	for k := range c.wanted() {
		if v, ok := sa.Annotations[k]; ok {
			old[k] = &v
		} else {
			old[k] = nil
		}
	}
	return &steps.Step{
		Action: api.Action{Op: op, Resource: res, Detail: c.describe(), Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			return patchAnnotations(ctx, kube, sa.Namespace, sa.Name, c.wanted())
		},
		Undo: func(ctx context.Context) error { return patchAnnotations(ctx, kube, sa.Namespace, sa.Name, old) },
	}
}

// createServiceAccount creates the ServiceAccount with the annotations (nil values left out).
func createServiceAccount(ctx context.Context, kube kubernetes.Interface, namespace, name string, annotations map[string]*string) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Annotations: map[string]string{}}}
	for k, v := range annotations {
		if v != nil {
			sa.Annotations[k] = *v
		}
	}
	if _, err := kube.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create serviceaccount %s/%s: %w", namespace, name, err)
	}
	return nil
}

// patchAnnotations sets the annotations (nil: removed) with one merge patch.
func patchAnnotations(ctx context.Context, kube kubernetes.Interface, namespace, name string, annotations map[string]*string) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	if _, err := kube.CoreV1().ServiceAccounts(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("annotate serviceaccount %s/%s: %w", namespace, name, err)
	}
	return nil
}

// associationWant is the Pod Identity association a ServiceAccount must have.
type associationWant struct {
	Namespace, ServiceAccount string
	RoleARN                   string
	// ARN, when set, gives the role ARN at run time (IAM's answer once the role is written).
	ARN                func() string
	TargetRoleARN      string
	DisableSessionTags bool
}

func (w associationWant) roleARN() string {
	if w.ARN != nil {
		return w.ARN()
	}
	return w.RoleARN
}

// differs reports whether the association a must be updated to be w.
func (w associationWant) differs(a *ekstypes.PodIdentityAssociation) bool {
	return aws.ToString(a.RoleArn) != w.RoleARN || aws.ToString(a.TargetRoleArn) != w.TargetRoleARN ||
		aws.ToBool(a.DisableSessionTags) != w.DisableSessionTags
}

// associationStep makes the ServiceAccount's association be w: created (deleted on rollback), updated (pointed
// back on rollback) or unchanged; cur is the association as read (nil: none).
func (p *PodIdentity) associationStep(w associationWant, cur *ekstypes.PodIdentityAssociation) *steps.Step {
	res := "podidentityassociation/" + w.Namespace + "/" + w.ServiceAccount
	switch {
	case cur == nil:
		var id string
		return &steps.Step{
			Action: api.Action{Op: "+", Resource: res, Detail: "create association in cluster " + p.Cluster + " with role " + w.RoleARN, Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				var err error
				id, err = p.createAssociation(ctx, w.Namespace, w.ServiceAccount, w.roleARN(), w.TargetRoleARN, w.DisableSessionTags)
				return err
			},
			Undo:     func(ctx context.Context) error { return p.deleteAssociation(ctx, id) },
			UndoWhat: "delete the Pod Identity association of " + w.Namespace + "/" + w.ServiceAccount,
		}
	case w.differs(cur):
		a := cur
		id := aws.ToString(a.AssociationId)
		return &steps.Step{
			Action: api.Action{Op: "~", Resource: res, Detail: fmt.Sprintf("update association %s: role %s (was %s)", id, w.RoleARN, aws.ToString(a.RoleArn)), Status: api.StatusPlanned},
			Do: func(ctx context.Context) error {
				return p.updateAssociation(ctx, id, w.roleARN(), w.TargetRoleARN, w.DisableSessionTags)
			},
			Undo: func(ctx context.Context) error {
				return p.updateAssociation(ctx, id, aws.ToString(a.RoleArn), aws.ToString(a.TargetRoleArn), aws.ToBool(a.DisableSessionTags))
			},
			UndoWhat: "point association " + id + " back at " + aws.ToString(a.RoleArn),
		}
	}
	return &steps.Step{Action: api.Action{Op: "=", Resource: res, Detail: "association " + aws.ToString(cur.AssociationId) + " already uses the role", Status: api.StatusUnchanged}}
}

// removeSubjectsStep removes subjects from our trust statement of the role (the undo adds back what it removed).
func removeSubjectsStep(w *docWriter, roleName string, provider trust.Provider, audience string, subjects []string) *steps.Step {
	var removed []string
	return &steps.Step{
		Action: api.Action{Op: "~", Resource: "role/" + roleName, Detail: "trust: remove " + strings.Join(subjects, ", "), Status: api.StatusPlanned},
		Do: func(ctx context.Context) error {
			var err error
			removed, err = w.updateTrust(ctx, roleName, removeSubjectsMutation(provider, audience, subjects))
			if err == nil && len(removed) == 0 {
				return steps.ErrUnchanged
			}
			return explainTrustError(roleName, err)
		},
		Undo: func(ctx context.Context) error {
			_, err := w.updateTrust(ctx, roleName, func(d *trust.Document) ([]string, error) {
				return d.AddSubjectsChecked(provider, audience, removed...)
			})
			return err
		},
		UndoWhat: "add " + strings.Join(subjects, ", ") + " back to the trust of role " + roleName,
	}
}
