#!/usr/bin/env bash
# Builds krew's own tools from the tools module hack/tools/krew (sigs.k8s.io/krew): validate-krew-manifest, which
# checks a plugin manifest as krew-index's CI does, and kubectl-krew, to install the plugin from the local archives.
# They are cached with the control-plane binaries, keyed by version (safe when runs share the cache); prints the cache directory holding them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/lib/cached-build.sh"
dir="$root/hack/tools/krew"
version=$(cd "$dir" && go list -m -f '{{.Version}}' sigs.k8s.io/krew)

cached_build "$dir" validate-krew-manifest "$version" sigs.k8s.io/krew/cmd/validate-krew-manifest
# kubectl-krew: the name kubectl's plugin discovery and validate-krew-manifest (`kubectl krew install`) look for.
cached_build "$dir" kubectl-krew "$version" sigs.k8s.io/krew/cmd/krew
echo "$bin"
