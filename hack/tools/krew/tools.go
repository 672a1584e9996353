//go:build tools

// Package tools pins the krew build used by `make test` to validate the plugin manifests and to install the
// plugin from the local archives.
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
