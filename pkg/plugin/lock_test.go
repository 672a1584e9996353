package plugin

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/rolelock"
)

func TestParseLock(t *testing.T) {
	for _, tc := range []struct{ in, bucket, prefix, err string }{
		{"kubernetes", "", "", ""},
		{"s3://irsa-locks/prod", "irsa-locks", "prod/", ""},
		{"s3://irsa-locks", "irsa-locks", "", ""},
		{"lease", "", "", "want kubernetes or s3://BUCKET/PREFIX"},
		{"s3://x/prod", "", "", "3 to 63"},
	} {
		v, err := parseLock(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.bucket == "" && v.s3 != nil, tc.bucket != "" && (v.s3 == nil || v.s3.Bucket != tc.bucket || v.s3.Prefix != tc.prefix):
			t.Errorf("%s = %+v", tc.in, v)
		}
	}
}

func TestLockFromEnvironment(t *testing.T) {
	var l lockFlags
	t.Setenv(lockEnv, "s3://irsa-locks/env")
	if v, err := l.chosen(); err != nil || v.s3 == nil || v.s3.Prefix != "env/" {
		t.Errorf("from %s: %+v %v", lockEnv, v, err)
	}
	if err := l.lock.Set("kubernetes"); err != nil {
		t.Fatal(err)
	}
	if v, err := l.chosen(); err != nil || v.s3 != nil {
		t.Errorf("--lock kubernetes over %s: %+v %v", lockEnv, v, err)
	}
	var bad lockFlags
	t.Setenv(lockEnv, "s3:/oops")
	var usage *usageError
	if _, err := bad.chosen(); !errors.As(err, &usage) || !strings.Contains(err.Error(), lockEnv) {
		t.Errorf("a bad %s: %v, want a usage error naming it", lockEnv, err)
	}
}

// TestRunCommandKeepsNoFlags: the command recorded in a lock object stops at the first flag (--token=...).
func TestRunCommandKeepsNoFlags(t *testing.T) {
	got := runCommand([]string{"/usr/bin/kubectl-irsa", "link", "app", "--token", "secret", "-n", "ns"})
	if got != "kubectl irsa link app" {
		t.Errorf("runCommand = %q", got)
	}
}

func TestS3LockErrors(t *testing.T) {
	l := &lockFlags{}
	v, _ := parseLock("s3://irsa-locks/prod")
	role := "arn:aws:iam::123456789012:role/app"
	for code, want := range map[string]string{
		"AccessDenied":      "S3 answered AccessDenied; allow s3:PutObject, s3:GetObject and s3:DeleteObject on arn:aws:s3:::irsa-locks/prod/* to these credentials (or choose another lock with --lock); nothing was written",
		"NoSuchBucket":      "bucket irsa-locks does not exist; create it",
		"PermanentRedirect": "add ?region=REGION to --lock",
		"InternalError":     "cannot take lock s3://irsa-locks/prod/123456789012/app.json that serialises writes to role " + role + ": api error InternalError",
	} {
		err := l.lockError(v, role, &rolelock.AccessError{Backend: rolelock.BackendS3, Lock: "s3://irsa-locks/prod/123456789012/app.json", Err: &smithy.GenericAPIError{Code: code}})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Count(err.Error(), "\n") != 0 {
			t.Errorf("%s: %v, want %q", code, err, want)
		}
	}
}
