package safetext

import "testing"

// TestSecretKeyEnding: the quick filter admits every secret key name.
func TestSecretKeyEnding(t *testing.T) {
	for _, k := range secretKeys {
		if !secretKeyEnding(k.name) {
			t.Errorf("secretKeyEnding(%q) = false", k.name)
		}
	}
}
