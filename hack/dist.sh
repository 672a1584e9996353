#!/usr/bin/env bash
# Builds the release files of kubectl irsa into dist/ (or $DIST_DIR):
#   kubectl-irsa_{linux,darwin}_{amd64,arm64}.tar.gz and kubectl-irsa_windows_amd64.zip, each holding the plugin
#   (kubectl-irsa, the entry kubectl runs), the full CLI it runs (irsa-core), both with .exe on windows, and LICENSE
#   at the top level;
#   checksums.txt (sha256sum format) and krew/irsa.yaml, the krew manifest of these archives.
# Run through `make dist`, which passes VERSION, COMMIT, DATE and LDFLAGS (the `build` target's); run directly,
# the same values are derived from git here. The archives are reproducible: the same commit gives the same bytes
# (CGO_ENABLED=0, -trimpath, commit-time mtimes, no owners, sorted entries; see hack/dist/main.go).
# KREW_URI_BASE overrides the base URL of the archives in krew/irsa.yaml (default: the GitHub release of VERSION).
# PLATFORMS (space-separated os/arch) builds only those archives and their checksums, without krew/irsa.yaml, which
# needs every platform: the tests build the native one this way (test/krew).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}
module=github.com/kubectl-irsa/kubectl-irsa
: "${VERSION:=$(git describe --tags --match 'v*' 2>/dev/null || echo v0.1.0-dev)}"
: "${COMMIT:=$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
: "${DATE:=$(git log -1 --format=%cI 2>/dev/null || echo unknown)}"
: "${LDFLAGS:=-s -w -X $module/pkg/version.Version=$VERSION -X $module/pkg/version.Commit=$COMMIT -X $module/pkg/version.Date=$DATE}"
dist=${DIST_DIR:-$root/dist}
uri_base=${KREW_URI_BASE:-https://github.com/kubectl-irsa/kubectl-irsa/releases/download/$VERSION}
all=(darwin/amd64 darwin/arm64 linux/amd64 linux/arm64 windows/amd64)
read -r -a platforms <<<"${PLATFORMS:-${all[*]}}"
for p in "${platforms[@]}"; do
  if [[ " ${all[*]} " != *" $p "* ]]; then
    echo "error: PLATFORMS: $p is not one of ${all[*]}" >&2
    exit 2
  fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dist"
# Only this script's outputs are removed, so a DIST_DIR holding other files is safe.
rm -rf "$dist"/kubectl-irsa_* "$dist/checksums.txt" "$dist/krew"

CGO_ENABLED=0 "$go" build -o "$tmp/dist" ./hack/dist
archives=()
for p in "${platforms[@]}"; do
  os=${p%/*} arch=${p#*/}
  bin=kubectl-irsa core=irsa-core ext=.tar.gz
  if [[ $os == windows ]]; then bin=kubectl-irsa.exe core=irsa-core.exe ext=.zip; fi
  echo "building $os/$arch ($VERSION)" >&2
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 "$go" build -trimpath -ldflags "$LDFLAGS" -o "$tmp/$os-$arch/$bin" ./cmd/kubectl-irsa
  GOOS=$os GOARCH=$arch CGO_ENABLED=0 "$go" build -trimpath -ldflags "$LDFLAGS" -o "$tmp/$os-$arch/$core" ./cmd/irsa-core
  archive="$dist/kubectl-irsa_${os}_${arch}$ext"
  "$tmp/dist" archive -o "$archive" -mtime "$DATE" "$bin=$tmp/$os-$arch/$bin" "$core=$tmp/$os-$arch/$core" "LICENSE=$root/LICENSE"
  archives+=("$archive")
done
"$tmp/dist" checksums -o "$dist/checksums.txt" "${archives[@]}"
if ((${#platforms[@]} == ${#all[@]})); then
  "$tmp/dist" manifest -checksums "$dist/checksums.txt" -version "$VERSION" -uri-base "$uri_base" -o "$dist/krew/irsa.yaml"
  manifest=" and krew/irsa.yaml"
else
  manifest=" (no krew/irsa.yaml: PLATFORMS names only ${platforms[*]})"
fi

for a in "${archives[@]}"; do
  printf '%9d  %s\n' "$(stat -c %s "$a" 2>/dev/null || stat -f %z "$a")" "${a#"$root"/}"
done
echo "wrote ${#archives[@]} archives, checksums.txt$manifest in $dist" >&2
