#!/usr/bin/env bash
# Builds the sandbox's control-plane binaries (etcd, kube-apiserver) from their tools modules under hack/tools
# and caches them outside the repository, keyed by version, so later runs reuse them (safe when runs share the cache).
# Prints the cache directory holding the binaries. The first cold build takes about 12 minutes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/lib/cached-build.sh"

# build NAME MODULE PACKAGE [LDFLAGS]: builds PACKAGE from hack/tools/NAME into $bin/NAME-VERSION, unless it is
# there (VERSION in LDFLAGS is replaced by the module's version).
build() {
  local name=$1 module=$2 pkg=$3 ldflags=${4:-} dir="$root/hack/tools/$1" version
  version=$(cd "$dir" && go list -m -f '{{.Version}}' "$module")
  cached_build "$dir" "$name" "$version" "$pkg" "${ldflags//VERSION/$version}"
}

build etcd go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes k8s.io/kubernetes/cmd/kube-apiserver \
  "-X k8s.io/component-base/version.gitVersion=VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
echo "$bin"
