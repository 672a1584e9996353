// Package fakeaws is an in-memory IAM, STS and EKS for unit tests: enough of each API for every command of
// kubectl irsa, with list calls that page (PageSize) so tests can prove every page is read, failures injected
// per operation (Fail), and every call recorded (Calls) so tests can assert what was written.
package fakeaws

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// Account and Partition are those of the fake caller.
const (
	Account   = "123456789012"
	Partition = "aws"
)

// AWS is the fake account: one IAM, one STS and one EKS sharing the call log.
type AWS struct {
	IAM *IAM
	STS *STS
	EKS *EKS

	mu    sync.Mutex
	calls []string
	// fail maps an operation name to the error it returns.
	fail map[string]error
	// PageSize caps each page of list calls (0: everything in one page).
	PageSize int
}

// New returns an empty account.
func New() *AWS {
	a := &AWS{fail: map[string]error{}}
	a.IAM = &IAM{aws: a, roles: map[string]*role{}, providers: map[string][]string{}, policies: map[string]string{}}
	a.STS = &STS{aws: a}
	a.EKS = &EKS{aws: a, Clusters: map[string]string{}}
	return a
}

// Fail makes operation op (such as "GetRolePolicy") return err from now on.
func (a *AWS) Fail(op string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fail[op] = err
}

// AccessDenied is the error IAM returns for a missing permission.
func AccessDenied(op string) error {
	return &smithy.GenericAPIError{Code: "AccessDenied", Message: "User is not authorized to perform: iam:" + op}
}

// Calls returns the operations called so far, in order.
func (a *AWS) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls)
}

// Writes returns the calls that change state (not Get, List, Describe or Simulate).
func (a *AWS) Writes() []string {
	var out []string
	for _, c := range a.Calls() {
		if !hasAnyPrefix(c, "Get", "List", "Describe", "Simulate", "AssumeRole") {
			out = append(out, c)
		}
	}
	return out
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return len(s) >= len(p) && s[:len(p)] == p })
}

// call records op and returns its injected failure; the caller must not hold a.mu.
func (a *AWS) call(op string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, op)
	return a.fail[op]
}

func notFound(what string) error {
	return &smithy.GenericAPIError{Code: "NoSuchEntity", Message: what + " not found"}
}

// page returns the slice of items for a marker, and the next marker ("" when done).
func page[T any](a *AWS, items []T, marker *string) ([]T, *string) {
	start := 0
	if marker != nil {
		start, _ = strconv.Atoi(*marker)
	}
	start = min(start, len(items))
	end := len(items)
	if a.PageSize > 0 && start+a.PageSize < end {
		end = start + a.PageSize
	}
	if end == len(items) {
		return items[start:], nil
	}
	return items[start:end], aws.String(strconv.Itoa(end))
}

// encode returns a document URL-encoded, as IAM returns policy documents.
func encode(doc string) *string { return aws.String(url.QueryEscape(doc)) }

func arn(kind, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:%s/%s", Partition, Account, kind, name)
}

// STS answers GetCallerIdentity as the account's admin and AssumeRoleWithWebIdentity for any existing role.
type STS struct {
	aws *AWS
	// CallerARN overrides the caller's ARN.
	CallerARN string
	assumed   string
}
