#!/usr/bin/env bash
# Checks (and where it can, installs) what the tests need beyond Go modules: kubectl, moto_server, terraform,
# and Debian's make and git. The Go toolchain and Python moto come with the machine image.
set -euo pipefail

missing=()
for tool in make git; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "installing ${missing[*]} from Debian packages" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for tool in go kubectl moto_server; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: $tool is not installed; the sandbox needs it (see README: Requirements)" >&2
    exit 1
  fi
done
