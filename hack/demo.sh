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

# Second act: the same seed Job, fixed with EKS Pod Identity instead of IRSA.
ns2=pi-sample-ns
step "Act two: the same seed Job in namespace $ns2, fixed with EKS Pod Identity instead of IRSA"
show kubectl create namespace "$ns2"
show kubectl create serviceaccount irsa-test -n "$ns2"
sed "s/irsa-sample-ns/$ns2/" hack/demo/seed-job.yaml | show kubectl apply -f -

step "doctor on the same log: the Job runs as the node role (exit 1)"
show kubectl irsa doctor job/eks-iam-test -n "$ns2" --logs-file hack/demo/seed-job.log || true

if kubectl irsa link --help 2>/dev/null | grep -q -- '--pod-identity'; then
  step "The fix with Pod Identity: role trusting pods.eks.amazonaws.com (sts:AssumeRole + sts:TagSession), permission, association"
  show kubectl irsa link irsa-test -n "$ns2" --pod-identity --role-name pi-role --allow eks:ListClusters

  step "doctor: the EKS Pod Identity Agent is not installed yet (exit 1)"
  show kubectl irsa doctor irsa-test -n "$ns2" || true

  step "Install the agent add-on (the sandbox's EKS emulation creates its DaemonSet in kube-system, as EKS does)"
  if command -v aws >/dev/null; then
    show aws eks create-addon --cluster-name irsa-sandbox --addon-name eks-pod-identity-agent --query addon.status
  else
    show python3 -c 'import boto3; print(boto3.client("eks").create_addon(clusterName="irsa-sandbox", addonName="eks-pod-identity-agent")["addon"]["status"])'
  fi

  step "list shows the mechanism, the role, and whether its trust admits Pod Identity"
  show kubectl irsa list -n "$ns2"

  step "test picks Pod Identity: a token for pods.eks.amazonaws.com, EKS Auth AssumeRoleForPodIdentity, GetCallerIdentity"
  show kubectl irsa test irsa-test -n "$ns2"

  step "The seed's call, made with the Pod Identity credentials"
  if command -v aws >/dev/null; then
    show kubectl irsa test irsa-test -n "$ns2" -- aws eks list-clusters
  else
    show kubectl irsa test irsa-test -n "$ns2" -- python3 -c 'import boto3; print(boto3.client("eks").list_clusters()["clusters"])'
  fi

  step "doctor agrees"
  show kubectl irsa doctor irsa-test -n "$ns2"
else
  step "This build has no link --pod-identity yet: act two stops here"
fi

# Third act: the same seed Job, fixed declaratively from a committed identity file.
ns3=set-sample-ns
if kubectl irsa apply --help >/dev/null 2>&1; then
  step "Act three: the seed Job in namespace $ns3, fixed by an identity file kept in Git"
  show kubectl create namespace "$ns3"
  show kubectl create serviceaccount irsa-test -n "$ns3"
  sed "s/irsa-sample-ns/$ns3/" hack/demo/seed-job.yaml | show kubectl apply -f -
  show cat hack/demo/identities/seed.yaml

  step "diff against the live cluster: role, subject, statement and annotation missing (exit 1: drift)"
  show kubectl irsa diff -f hack/demo/identities/ || true

  step "apply converges: provider, role with the set's tag, trust, statement, annotation with the set's mark"
  show kubectl irsa apply -f hack/demo/identities/

  step "test passes for the Job's ServiceAccount"
  show kubectl irsa test irsa-test -n "$ns3"

  step "Someone removes the annotation by hand: diff names the drift (exit 1), as a CI step would"
  show kubectl annotate serviceaccount irsa-test -n "$ns3" eks.amazonaws.com/role-arn-
  show kubectl irsa diff -f hack/demo/identities/ || true

  step "apply repairs exactly that, and diff is clean again (exit 0)"
  show kubectl irsa apply -f hack/demo/identities/
  show kubectl irsa diff -f hack/demo/identities/
else
  step "This build has no apply -f yet: act three is skipped"
fi

step "Done; the sandbox stops and removes its files"
