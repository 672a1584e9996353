#!/usr/bin/env bash
# Builds the sandbox's control-plane binaries (etcd, kube-apiserver) from their tools modules under hack/tools
# and caches them outside the repository, keyed by version, so later runs reuse them.
# Prints the cache directory holding the binaries. The first cold build takes about 12 minutes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${KUBECTL_IRSA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
bin="$cache/bin"
mkdir -p "$bin"

# build NAME MODULE PACKAGE [LDFLAGS]: builds PACKAGE from hack/tools/NAME into $bin/NAME-VERSION, unless it is there.
build() {
  local name=$1 module=$2 pkg=$3 ldflags=${4:-} dir="$root/hack/tools/$1" version
  version=$(cd "$dir" && go list -m -f '{{.Version}}' "$module")
  local out="$bin/$name-$version"
  if [[ ! -x "$out" ]]; then
    echo "building $name $version (first run only; cached in $bin)" >&2
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags="-s ${ldflags//VERSION/$version}" -o "$out.tmp" "$pkg")
    mv "$out.tmp" "$out"
  fi
  ln -sf "$name-$version" "$bin/$name"
}

build etcd go.etcd.io/etcd/server/v3 go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes k8s.io/kubernetes/cmd/kube-apiserver \
  "-X k8s.io/component-base/version.gitVersion=VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37"
echo "$bin"
