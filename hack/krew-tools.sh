#!/usr/bin/env bash
# Builds krew's own tools from the tools module hack/tools/krew (sigs.k8s.io/krew): validate-krew-manifest, which
# checks a plugin manifest as krew-index's CI does, and kubectl-krew, to install the plugin from the local archives.
# They are cached with the control-plane binaries, keyed by version; prints the cache directory holding them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${KUBECTL_IRSA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-irsa}
bin="$cache/bin"
mkdir -p "$bin"
dir="$root/hack/tools/krew"
version=$(cd "$dir" && go list -m -f '{{.Version}}' sigs.k8s.io/krew)

# build NAME PACKAGE: builds PACKAGE into $bin/NAME-VERSION, unless it is there, and links NAME to it.
build() {
  local name=$1 pkg=$2 out="$bin/$1-$version"
  if [[ ! -x "$out" ]]; then
    echo "building $name $version (first run only; cached in $bin)" >&2
    (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$out.tmp" "$pkg")
    mv "$out.tmp" "$out"
  fi
  ln -sf "$name-$version" "$bin/$name"
}

build validate-krew-manifest sigs.k8s.io/krew/cmd/validate-krew-manifest
# kubectl-krew: the name kubectl's plugin discovery and validate-krew-manifest (`kubectl krew install`) look for.
build kubectl-krew sigs.k8s.io/krew/cmd/krew
echo "$bin"
