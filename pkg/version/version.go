// Package version holds the build's version, commit and date, injected by the Makefile with -ldflags -X.
package version

// Set at build time with -ldflags "-X github.com/kubectl-irsa/kubectl-irsa/pkg/version.Version=...".
var (
	// Version is the release version, such as v0.1.0.
	Version = "v0.0.0-dev"
	// Commit is the git commit the binary was built from.
	Commit = "unknown"
	// Date is the build date in RFC 3339.
	Date = "unknown"
)
