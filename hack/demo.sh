#!/usr/bin/env bash
# The seed scenario, end to end, in the local sandbox: no AWS account or EKS cluster needed.
# Run through `make demo` (which builds bin/kubectl-irsa and the control plane first).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bindir=$(./hack/control-plane.sh)
tmp=$(mktemp -d)
export PATH="$root/bin:$PATH"

go build -o "$tmp/sandbox" ./hack/sandbox
"$tmp/sandbox" -bin-dir "$bindir" >"$tmp/env" 2>"$tmp/sandbox.log" &
sandbox_pid=$!
cleanup() {
  kill -TERM "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for _ in $(seq 1 600); do
  grep -q AWS_DEFAULT_REGION "$tmp/env" 2>/dev/null && break
  if ! kill -0 "$sandbox_pid" 2>/dev/null; then
    cat "$tmp/sandbox.log" >&2
    exit 1
  fi
  sleep 0.2
done
# shellcheck disable=SC1091
source "$tmp/env"

bold=$'\e[1m' reset=$'\e[0m'
[[ -t 1 && -z "${NO_COLOR:-}" ]] || { bold=""; reset=""; }
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "The sandbox: moto_server as AWS, a real kube-apiserver with the EKS cluster's issuer"
show kubectl config current-context
show kubectl plugin list

step "kubectl finds the plugin"
show kubectl irsa version

step "The cluster's OIDC issuer, read from the current context"
show kubectl irsa issuer

step "The seed guide's namespace, ServiceAccount (not annotated yet) and test Job"
show kubectl create namespace irsa-sample-ns
show kubectl create serviceaccount irsa-test -n irsa-sample-ns
show kubectl apply -f hack/demo/seed-job.yaml

step "On EKS the Job fails like this (the sandbox has no nodes, so this is the seed's recorded log line)"
show cat hack/demo/seed-job.log

step "doctor explains it: node-role fallback, ServiceAccount not annotated, and the fix (exit 1: errors found)"
show kubectl irsa doctor job/eks-iam-test -n irsa-sample-ns --logs-file hack/demo/seed-job.log || true

step "test proves it from the laptop, without deploying anything (exit 1)"
show kubectl irsa test irsa-test -n irsa-sample-ns || true

step "The fix, in one step: provider, role with exact trust, permission, annotation"
show kubectl irsa link irsa-test -n irsa-sample-ns --role-name irsa-role --allow eks:ListClusters

step "Run it again: nothing to do"
show kubectl irsa link irsa-test -n irsa-sample-ns --role-name irsa-role --allow eks:ListClusters

step "test passes: a real token for irsa-test, the trust evaluated against it, STS, GetCallerIdentity"
show kubectl irsa test irsa-test -n irsa-sample-ns

step "The seed's call, made with the role's temporary credentials"
if command -v aws >/dev/null; then
  show kubectl irsa test irsa-test -n irsa-sample-ns -- aws eks list-clusters
else
  show kubectl irsa test irsa-test -n irsa-sample-ns -- python3 -c 'import boto3; print(boto3.client("eks").list_clusters()["clusters"])'
fi

step "doctor agrees"
show kubectl irsa doctor irsa-test -n irsa-sample-ns

step "Done; the sandbox stops and removes its files"
