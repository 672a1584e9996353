// Package awsapi holds the small things every AWS caller shares: shortening SDK errors to one line, telling
// "does not exist" and "not available here" apart from other failures, and who the credentials belong to.
// The API interfaces themselves live next to their users (cluster, setup, inspect).
package awsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// CallerAPI is the STS call that tells who the credentials are; *sts.Client implements it.
type CallerAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Caller is who the AWS credentials belong to.
type Caller struct {
	ARN       string
	Account   string
	Partition string
}

// ErrUnreachable marks a failed sts:GetCallerIdentity: AWS cannot be reached with the current credentials.
var ErrUnreachable = errors.New("cannot reach AWS with the current credentials")

// WhoAmI checks the AWS credentials with STS GetCallerIdentity.
func WhoAmI(ctx context.Context, client CallerAPI) (Caller, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, fmt.Errorf("%w (sts:GetCallerIdentity): %w", ErrUnreachable, Short(err))
	}
	c := Caller{ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account), Partition: "aws"}
	if a, err := arn.Parse(c.ARN); err == nil {
		c.Partition = a.Partition
	}
	return c, nil
}

// IsNotFound reports whether an AWS error means the entity does not exist.
func IsNotFound(err error) bool {
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "NoSuchEntity" || api.ErrorCode() == "ResourceNotFoundException")
}

// IsUnavailable reports whether an API is not served at all by the endpoint (an emulator without it, or an
// HTTP 404/501 without an AWS error code): its data is not known, but nothing failed.
func IsUnavailable(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NotImplemented", "UnknownOperationException", "InvalidAction":
			return true
		}
	}
	var resp *smithyhttp.ResponseError
	return errors.As(err, &resp) && (resp.HTTPStatusCode() == http.StatusNotFound || resp.HTTPStatusCode() == http.StatusNotImplemented) && !IsNotFound(err)
}

// Error is an AWS error as people read it: Error() is one short line (the API code and message, or which call
// could not be reached), Unwrap returns the SDK error, so errors.As(err, &smithy.APIError) and
// errors.Is(err, context.Canceled) keep working above it.
type Error struct {
	text string
	err  error
}

func (e *Error) Error() string { return e.text }
func (e *Error) Unwrap() error { return e.err }

// Short shortens an SDK error to its API code and message when it has them, dropping request ids and retry
// chatter, so it fits on one line. The original stays in the chain (see Error). Short(nil) is nil.
func Short(err error) error {
	if err == nil {
		return nil
	}
	if short, ok := err.(*Error); ok {
		return short
	}
	text, ok := shortText(err)
	if !ok {
		return err
	}
	return &Error{text: text, err: err}
}

// shortText is the one-line text of an SDK error; false when err is not one (it is then kept as it is).
func shortText(err error) (string, bool) {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage(), true
	}
	msg := err.Error()
	dial := strings.LastIndex(msg, "dial tcp")
	var op *smithy.OperationError
	if !errors.As(err, &op) {
		if dial >= 0 {
			return msg[dial:], true
		}
		return "", false
	}
	call := strings.ToLower(op.ServiceID) + ":" + op.OperationName
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 {
		return fmt.Sprintf("%s answered HTTP %d", call, resp.HTTPStatusCode()), true
	}
	// No answer at all: a refused connection, a DNS failure, a timeout.
	if dial >= 0 {
		return fmt.Sprintf("%s not reachable: %s", call, msg[dial:]), true
	}
	return fmt.Sprintf("%s not reachable: %s", call, op.Err.Error()), true
}
