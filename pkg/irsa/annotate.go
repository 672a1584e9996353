package irsa

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/trust"
)

// AnnotateRequest is what `kubectl irsa annotate` is asked to do.
type AnnotateRequest struct {
	Namespace, ServiceAccount, RoleARN string
	Overwrite, Restart                 bool
}

// Annotate sets the role annotation on an existing ServiceAccount and restarts or lists its stale pods.
func Annotate(ctx context.Context, kube kubernetes.Interface, req AnnotateRequest, now time.Time) (*Result, error) {
	if err := ValidateNamespace(req.Namespace); err != nil {
		return nil, err
	}
	if err := ValidateServiceAccountName(req.ServiceAccount); err != nil {
		return nil, err
	}
	role, err := ParseRoleARN(req.RoleARN)
	if err != nil {
		return nil, err
	}
	sa, err := readServiceAccount(ctx, kube, req.Namespace, req.ServiceAccount, false)
	if err != nil {
		return nil, err
	}
	if sa.RoleARN != "" && sa.RoleARN != role.ARN && !req.Overwrite {
		return nil, fmt.Errorf("serviceaccount %s/%s is already annotated with %s: pass --overwrite to replace it", req.Namespace, req.ServiceAccount, sa.RoleARN)
	}
	res := NewResult("AnnotateResult")
	res.Role = &RoleInfo{Name: role.Name, ARN: role.ARN}
	res.ServiceAccounts = []ServiceAccountRef{{Namespace: sa.Namespace, Name: sa.Name, Subject: trust.Subject(sa.Namespace, sa.Name), Audience: sa.Audience}}
	resource := "serviceaccount/" + sa.Namespace + "/" + sa.Name
	if sa.RoleARN == role.ARN {
		res.Unchanged = true
		res.Actions = append(res.Actions, Action{Op: "=", Resource: resource, Detail: "already annotated", Status: StatusUnchanged})
	} else {
		if err := setRoleAnnotation(ctx, kube, sa.Namespace, sa.Name, role.ARN, false); err != nil {
			return nil, err
		}
		op := "+"
		if sa.RoleARN != "" {
			op = "~"
		}
		res.Actions = append(res.Actions, Action{Op: op, Resource: resource, Detail: "annotate " + RoleARNAnnotation + "=" + role.ARN, Status: StatusDone})
	}
	pods, workloads, err := StalePods(ctx, kube, sa.Namespace, sa.Name)
	if err != nil {
		return res, err
	}
	return res, restartOrHint(ctx, kube, res, pods, workloads, req.Restart, now)
}
