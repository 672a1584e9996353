package plugintest

import (
	"context"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/setup"
)

// EKSAuth gives the fake EKS Auth (any token of an associated ServiceAccount is exchanged for its role).
func (f *Factory) EKSAuth(context.Context) (setup.EKSAuthAPI, error) {
	if f.AWSErr != nil {
		return nil, f.AWSErr
	}
	return f.Cloud.EKSAuth(), nil
}
