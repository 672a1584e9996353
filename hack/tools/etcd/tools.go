//go:build tools

// Package tools pins the etcd build used by the sandbox.
package tools

import _ "go.etcd.io/etcd/server/v3"
