#!/usr/bin/env bash
# Runs staticcheck, pinned in the tools module hack/tools/staticcheck, with the given arguments. The binary is
# built once per staticcheck and Go version into the shared cache (safe when runs share it; a binary built by
# another Go release may not load this one's standard library, hence the Go version in its name).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/lib/cached-build.sh"
dir="$root/hack/tools/staticcheck"
version=$(cd "$dir" && go list -m -f '{{.Version}}' honnef.co/go/tools)
cached_build "$dir" staticcheck "$version-$(go env GOVERSION)" honnef.co/go/tools/cmd/staticcheck
exec "$bin/staticcheck" "$@"
