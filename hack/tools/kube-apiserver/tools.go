//go:build tools

// Package tools pins the kube-apiserver build used by the sandbox.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
