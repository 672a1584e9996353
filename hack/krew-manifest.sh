#!/usr/bin/env bash
# Release time, after `make dist`: regenerates plugins/irsa.yaml, the manifest for kubernetes-sigs/krew-index (the
# first submission is made by hand; later versions by krew-release-bot), from dist/checksums.txt, with the
# GitHub release URLs of VERSION; and .krew.yaml, krew-release-bot's template of the same manifest.
# Run through `make krew-manifest`, which passes VERSION (the release tag, as `make dist` does).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
go=${GO:-go}
: "${VERSION:=$(git describe --tags --match 'v*' 2>/dev/null || echo v0.1.0-dev)}"
dist=${DIST_DIR:-$root/dist}

if [[ ! -f "$dist/checksums.txt" || ! -f "$dist/krew/irsa.yaml" ]]; then
  echo "error: $dist/checksums.txt not found: run \`make dist\` first" >&2
  exit 1
fi
# The archives must be the ones of this version, or the checksums would not match the release.
if ! grep -qx "  version: $VERSION" "$dist/krew/irsa.yaml"; then
  echo "error: $dist was built for $(sed -n 's/^  version: //p' "$dist/krew/irsa.yaml"), not $VERSION: run \`make dist VERSION=$VERSION\`" >&2
  exit 1
fi
if command -v sha256sum >/dev/null; then
  (cd "$dist" && sha256sum --quiet -c checksums.txt)
fi

"$go" run ./hack/dist manifest -checksums "$dist/checksums.txt" -version "$VERSION" -o plugins/irsa.yaml
"$go" run ./hack/dist manifest -krew-release-bot -o .krew.yaml
echo "wrote plugins/irsa.yaml ($VERSION) and .krew.yaml" >&2
