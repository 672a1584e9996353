// Package cluster reads what kubectl irsa needs to know about the cluster itself: which EKS cluster the
// kubeconfig context is (Ref), its OIDC issuer (Discovery), ServiceAccount token claims, Kubernetes name
// rules, and paged list calls shared by the read and write sides.
package cluster

import (
	"path/filepath"
	"regexp"
	"strings"
)

// Ref is what the kubeconfig and the global options tell about the EKS cluster: enough to call DescribeCluster.
type Ref struct {
	// Name is the EKS cluster name.
	Name string
	// Region is the cluster's AWS region.
	Region string
	// Account is the cluster's AWS account id, when the context name is an EKS ARN.
	Account string
}

var eksClusterARN = regexp.MustCompile(`^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):cluster/([A-Za-z0-9][A-Za-z0-9_-]*)$`)

// Resolve fills what the given ref left empty: from the context or cluster name when it is an EKS cluster ARN
// (as `aws eks update-kubeconfig` names them), else from the cluster name and region arguments of an
// `aws eks get-token` or `aws-iam-authenticator token` exec entry.
func Resolve(flags Ref, contextName, clusterName string, execArgs []string) Ref {
	ref := flags
	fill := func(name, region, account string) {
		if ref.Name == "" {
			ref.Name = name
		}
		if ref.Region == "" {
			ref.Region = region
		}
		if ref.Account == "" {
			ref.Account = account
		}
	}
	for _, n := range []string{contextName, clusterName} {
		if m := eksClusterARN.FindStringSubmatch(n); m != nil {
			fill(m[3], m[1], m[2])
		}
	}
	if len(execArgs) > 0 {
		name, region := parseExecArgs(execArgs)
		fill(name, region, "")
	}
	return ref
}

// parseExecArgs reads the cluster name and region from the args of `aws eks get-token` (--cluster-name,
// --region) or `aws-iam-authenticator token` (-i/--cluster-id, --region).
func parseExecArgs(args []string) (name, region string) {
	cmd := filepath.Base(args[0])
	if cmd != "aws" && !strings.HasPrefix(cmd, "aws-iam-authenticator") {
		return "", ""
	}
	for i := 1; i < len(args); i++ {
		key, value, hasValue := strings.Cut(args[i], "=")
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		switch key {
		case "--cluster-name", "--cluster-id", "-i":
			name = value
		case "--region":
			region = value
		}
	}
	return name, region
}
