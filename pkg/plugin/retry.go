package plugin

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// iamMaxAttempts bounds the attempts of one IAM call under throttling: IAM's request rate is low and a large
// audit may hit it; the adaptive mode slows the whole client down instead of failing.
const iamMaxAttempts = 10

// newIAMRetryer is the SDK's adaptive retry mode for IAM: a client-side rate limit that backs off when IAM
// answers with throttling errors, up to iamMaxAttempts attempts a call, without the standard mode's retry
// quota (which would fail a long audit after a burst of throttling).
func newIAMRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = iamMaxAttempts
			so.RateLimiter = ratelimit.None
		})
	})
}

// withAdaptiveRetry sets the IAM client's retryer (iam.NewFromConfig option).
func withAdaptiveRetry(o *iam.Options) { o.Retryer = newIAMRetryer() }
