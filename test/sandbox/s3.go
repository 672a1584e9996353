package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"

	"encoding/xml"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// LockBucket is the S3 bucket the sandbox creates for kubectl irsa's S3 role locks (--lock s3://LockBucket/PREFIX).
// moto 5.2.1 honours S3's conditional writes (PutObject If-None-Match: * and If-Match, DeleteObject If-Match,
// 412 PreconditionFailed); it never answers 409 ConditionalRequestConflict, which a test injects as a Fault.
const LockBucket = "irsa-locks"

// createLockBucket creates LockBucket in moto.
func (s *Sandbox) createLockBucket(ctx context.Context) error {
	client := s3.New(s3.Options{Region: Region, BaseEndpoint: aws.String(s.MotoEndpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(LockBucket)}); err != nil {
		return fmt.Errorf("create the lock bucket: %w", err)
	}
	return nil
}

// UserEnv creates IAM user name with the inline identity policy and an access key, and returns the environment
// overrides (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) that make a child process act as that user in Account.
// Only a sandbox started with Options.MotoAuth evaluates the policy (moto evaluates IAM, S3 and SQS calls).
func (s *Sandbox) UserEnv(ctx context.Context, name, policy string) ([]string, error) {
	client := iam.New(iam.Options{Region: Region, BaseEndpoint: aws.String(s.MotoEndpoint),
		Credentials: credentials.NewStaticCredentialsProvider(s.accessKeyID, s.secretAccessKey, "")})
	if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		return nil, fmt.Errorf("create user %s: %w", name, err)
	}
	if _, err := client.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("policy"), PolicyDocument: aws.String(policy)}); err != nil {
		return nil, fmt.Errorf("put the policy of user %s: %w", name, err)
	}
	key, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("create the key of user %s: %w", name, err)
	}
	id := aws.ToString(key.AccessKey.AccessKeyId)
	s.accounts.mu.Lock()
	s.accounts.byKey[id] = Account
	s.accounts.mu.Unlock()
	return []string{"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + aws.ToString(key.AccessKey.SecretAccessKey), "AWS_SESSION_TOKEN="}, nil
}

// s3Operation names an S3 REST call by its API operation (path-style requests: /BUCKET/KEY): s3:PutObject,
// s3:GetObject, s3:DeleteObject, s3:HeadObject on a key; s3:CreateBucket ... on a bucket.
func s3Operation(r *http.Request) string {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" {
		return "s3:ListBuckets"
	}
	ops := map[string][2]string{
		http.MethodPut:    {"PutObject", "CreateBucket"},
		http.MethodGet:    {"GetObject", "ListObjects"},
		http.MethodDelete: {"DeleteObject", "DeleteBucket"},
		http.MethodHead:   {"HeadObject", "HeadBucket"},
	}
	op, ok := ops[r.Method]
	if !ok {
		return "s3:" + r.Method + " " + r.URL.Path
	}
	if key != "" {
		return "s3:" + op[0]
	}
	return "s3:" + op[1]
}

// writeS3Error answers in S3's REST-XML error format.
func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>`, code)
	_ = xml.EscapeText(&b, []byte(msg))
	id := requestID()
	fmt.Fprintf(&b, `</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>`, id, id)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", id)
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// s3Messages are S3's messages of the error codes a Fault may inject.
var s3Messages = map[string]string{
	"AccessDenied":               "Access Denied",
	"ConditionalRequestConflict": "The conditional request cannot succeed due to a conflicting operation against this resource.",
	"PreconditionFailed":         "At least one of the pre-conditions you specified did not hold",
	"NoSuchBucket":               "The specified bucket does not exist",
	"SlowDown":                   "Please reduce your request rate.",
}
