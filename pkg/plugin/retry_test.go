package plugin

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestIAMClientRetriesAdaptively(t *testing.T) {
	c := iam.NewFromConfig(aws.Config{Region: "us-east-1"}, withAdaptiveRetry)
	r, ok := c.Options().Retryer.(*retry.AdaptiveMode)
	if !ok {
		t.Fatalf("IAM retryer is %T, want *retry.AdaptiveMode", c.Options().Retryer)
	}
	if r.MaxAttempts() != iamMaxAttempts {
		t.Errorf("max attempts %d, want %d", r.MaxAttempts(), iamMaxAttempts)
	}
	// Throttling is retried (and slows the client down) instead of failing the read.
	if !r.IsErrorRetryable(&throttled{}) {
		t.Error("a Throttling error is not retried")
	}
}

type throttled struct{}

func (*throttled) Error() string        { return "Throttling: Rate exceeded" }
func (*throttled) ErrorCode() string    { return "Throttling" }
func (*throttled) ErrorMessage() string { return "Rate exceeded" }
