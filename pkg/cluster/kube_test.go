package cluster

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestListFollowsContinue: lists ask for PageSize items and follow Continue to the last page.
func TestListFollowsContinue(t *testing.T) {
	kube := fake.NewClientset()
	var limits []int64
	kube.PrependReactor("list", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		opts := a.(k8stesting.ListActionImpl).ListOptions
		limits = append(limits, opts.Limit)
		page := 0
		fmt.Sscan(opts.Continue, &page)
		list := &corev1.ServiceAccountList{Items: []corev1.ServiceAccount{{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("sa-", page), Namespace: "ns"}}}}
		if page < 2 {
			list.Continue = fmt.Sprint(page + 1)
		}
		return true, list, nil
	})
	sas, err := ListServiceAccounts(context.Background(), kube, "ns")
	if err != nil || len(sas) != 3 || sas[2].Name != "sa-2" {
		t.Fatalf("sas = %v, %v", sas, err)
	}
	if len(limits) != 3 || limits[0] != PageSize {
		t.Errorf("limits = %v", limits)
	}
}
