package sandbox

import "testing"

// TestDefaultBinDir: the bin directory defaults as the Makefile's KUBECTL_IRSA_BIN_DIR does, so `go run
// ./hack/sandbox` finds the control plane without the Makefile's environment.
func TestDefaultBinDir(t *testing.T) {
	for _, tc := range []struct {
		binDir, cache, xdg, home, want string
	}{
		{"/b", "/c", "/x", "/h", "/b"},
		{"", "/c", "/x", "/h", "/c/bin"},
		{"", "", "/x", "/h", "/x/kubectl-irsa/bin"},
		{"", "", "", "/h", "/h/.cache/kubectl-irsa/bin"},
	} {
		t.Setenv("KUBECTL_IRSA_BIN_DIR", tc.binDir)
		t.Setenv("KUBECTL_IRSA_CACHE", tc.cache)
		t.Setenv("XDG_CACHE_HOME", tc.xdg)
		t.Setenv("HOME", tc.home)
		if got := DefaultBinDir(); got != tc.want {
			t.Errorf("%+v: DefaultBinDir() = %q, want %q", tc, got, tc.want)
		}
	}
}
