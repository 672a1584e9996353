//go:build tools

// Package tools pins staticcheck, which `make check` builds into the cache and runs.
package tools

import _ "honnef.co/go/tools/cmd/staticcheck"
