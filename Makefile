# kubectl irsa — build, test and demo. `make test` is what CI runs (.ci/run); `make demo` runs the seed scenario
# in the local sandbox. The first run builds etcd and kube-apiserver (about 12 minutes cold) into
# $(CACHE)/bin and reuses them afterwards.

SHELL   := /bin/bash
GO      ?= go
MODULE  := github.com/kubectl-irsa/kubectl-irsa
VERSION ?= $(shell git describe --tags --match 'v*' 2>/dev/null || echo v0.1.0-dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# The commit date, not the build time, so the same commit builds the same binary.
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X $(MODULE)/pkg/version.Version=$(VERSION) -X $(MODULE)/pkg/version.Commit=$(COMMIT) -X $(MODULE)/pkg/version.Date=$(DATE)
CACHE   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kubectl-irsa
export KUBECTL_IRSA_CACHE := $(CACHE)
export KUBECTL_IRSA_BIN_DIR := $(CACHE)/bin

.PHONY: all build control-plane check test test-unit test-integration demo sandbox bench fuzz clean

all: build

## build: the plugin, bin/kubectl-irsa (the entry kubectl runs) and bin/irsa-core (the full CLI it runs)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl-irsa ./cmd/kubectl-irsa
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/irsa-core ./cmd/irsa-core
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kubectl_complete-irsa ./cmd/kubectl_complete-irsa

## control-plane: build (once) and cache etcd and kube-apiserver for the sandbox
control-plane:
	./hack/control-plane.sh >/dev/null

## check: gofmt, go vet, staticcheck (pinned in hack/tools/staticcheck), go mod tidy
check:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	./hack/staticcheck.sh ./...
	$(GO) mod tidy -diff

## test: every test — checks, unit tests, and integration tests in the sandbox
test: check control-plane krew-tools build
	$(GO) test -count=1 -timeout 30m ./...

## test-unit: tests that start no process
test-unit:
	$(GO) test -count=1 -short ./...

## test-integration: only the sandbox tests
test-integration: control-plane
	$(GO) test -count=1 -timeout 30m ./test/...

## demo: the seed scenario end to end in the local sandbox (no AWS account needed)
demo: control-plane build
	./hack/demo.sh

## sandbox: start the sandbox and print the export lines for another shell; Ctrl-C stops it
sandbox: control-plane build
	$(GO) run ./hack/sandbox

## bench: request counts and wall time in the sandbox, log-scan throughput against grep, Go benchmarks
## (each part runs even when an earlier one misses its target, so every figure is printed; exit 1 if any missed)
bench: control-plane build
	@status=0; \
	$(GO) run ./bench/sandbox -plugin bin/kubectl-irsa || { echo 'bench/sandbox: FAILED' >&2; status=1; }; \
	./bench/logs.sh || { echo 'bench/logs.sh: target missed (see above)' >&2; status=1; }; \
	$(GO) test -run '^$$' -bench . -benchmem ./pkg/... || status=1; \
	exit $$status

clean:
	rm -rf bin dist

## dist: reproducible release archives, checksums.txt and the krew manifest in dist/
dist:
	VERSION='$(VERSION)' COMMIT='$(COMMIT)' DATE='$(DATE)' LDFLAGS='$(LDFLAGS)' GO='$(GO)' ./hack/dist.sh

## krew-manifest: regenerate plugins/irsa.yaml (krew-index) and .krew.yaml (krew-release-bot) from dist/
krew-manifest:
	VERSION='$(VERSION)' GO='$(GO)' ./hack/krew-manifest.sh

## krew-tools: build (once) and cache krew and validate-krew-manifest for the krew tests
krew-tools:
	./hack/krew-tools.sh >/dev/null

## krew-check: release check: compile every platform's archive, validate the krew manifests and install the plugin
## with krew from the local archives (`make test` compiles only this machine's archive and stands in for the others)
krew-check: krew-tools
	KUBECTL_IRSA_DIST_ALL=1 $(GO) test -count=1 -timeout 60m ./test/krew/

## docs: regenerate the command reference in docs/commands from the cobra tree
docs:
	$(GO) run ./hack/docs -dir docs/commands

.PHONY: dist krew-manifest krew-tools krew-check docs
