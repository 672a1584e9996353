package inspect

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestInClusterTestInterruptedDeletesJob: cancelling the run (SIGINT, SIGTERM) while the Job's pod has not finished
// deletes the Job and says so; progress was told while waiting.
func TestInClusterTestInterruptedDeletesJob(t *testing.T) {
	kube := fake.NewClientset()
	var told atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	run := &InClusterTest{Kube: kube, Job: BuildTestJob("ns", "app", "amazon/aws-cli:latest", nil, time.Now()), Poll: 10 * time.Millisecond,
		Progress: func(time.Duration, string) {
			if told.Add(1) == 3 {
				cancel()
			}
		}}
	_, err := run.Run(ctx, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if told.Load() < 3 {
		t.Errorf("progress told %d times", told.Load())
	}
	jobs, _ := kube.BatchV1().Jobs("ns").List(context.Background(), metav1.ListOptions{})
	if len(jobs.Items) != 0 {
		t.Errorf("Job left after the interrupted run: %s", jobs.Items[0].Name)
	}
}
