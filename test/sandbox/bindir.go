package sandbox

import (
	"os"
	"path/filepath"
)

// DefaultBinDir is where hack/control-plane.sh caches etcd and kube-apiserver, as the Makefile sets
// KUBECTL_IRSA_BIN_DIR: $KUBECTL_IRSA_BIN_DIR, else $KUBECTL_IRSA_CACHE/bin, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa/bin. So `go run ./hack/sandbox` works without the Makefile.
func DefaultBinDir() string {
	if dir := os.Getenv("KUBECTL_IRSA_BIN_DIR"); dir != "" {
		return dir
	}
	if cache := os.Getenv("KUBECTL_IRSA_CACHE"); cache != "" {
		return filepath.Join(cache, "bin")
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "kubectl-irsa", "bin")
}
