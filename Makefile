# iamgate build and test entry points. Everything the tests need comes from
# the Go module proxy; aws-cli and moto are used when the machine has them.
GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 5s
LDFLAGS   ?= -s -w
# The toolchain's own VCS stamping stays off: git may be missing, or refuse
# a checkout another user owns, and no build should fail for that. The
# version, commit and commit time come from git here instead and reach the
# binaries through -X (internal/cli.Version, Commit, Date); without git they
# stay "dev" and empty. The commit's time, not the build's, keeps two builds
# of one commit identical. Override any of them: make dist VERSION=v1.2.3.
export GOFLAGS ?= -buildvcs=false
VERSION   := $(or $(VERSION),$(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null),dev)
COMMIT    := $(or $(COMMIT),$(shell git rev-parse HEAD 2>/dev/null))
DATE      := $(or $(DATE),$(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null))
STAMP_PKG := github.com/iamgate/iamgate/internal/cli
STAMP     := -X $(STAMP_PKG).Version=$(VERSION) -X $(STAMP_PKG).Commit=$(COMMIT) -X $(STAMP_PKG).Date=$(DATE)
# Release archives (docs/release.md).
DIST      ?= dist
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
# kube-apiserver and etcd for the real-control-plane tests (internal/testsupport/kube), built
# from source by hack/build-control-plane.sh; envtest finds them through
# KUBEBUILDER_ASSETS.
CONTROLPLANE_DIR := $(or $(IAMGATE_BUILD_CACHE),$(HOME)/.cache/iamgate)/k8s-v1.33.13/bin
export KUBEBUILDER_ASSETS := $(CONTROLPLANE_DIR)

.PHONY: all build demo test vet unit fuzz bench install clean controlplane deps dist dist-check

all: build

build:
	$(GO) build -trimpath -ldflags="$(LDFLAGS) $(STAMP)" -o $(BIN)/iamgate ./cmd/iamgate
	$(GO) build -trimpath -ldflags="$(LDFLAGS) $(STAMP)" -o $(BIN)/iamgate-core ./cmd/iamgate-core
	$(GO) build -trimpath -ldflags="$(LDFLAGS) $(STAMP)" -o $(BIN)/iamgate-demo ./cmd/iamgate-demo

# The local run: an STS stand-in, the real server and client, no AWS account.
demo:
	$(GO) run ./cmd/iamgate-demo

# Every test: vet, the whole tree under the race detector (and the
# monitoring rules, a module of their own: Prometheus's parser needs newer
# k8s.io modules than iamgate builds with), then each fuzz target briefly.
test: vet unit fuzz

vet:
	$(GO) vet ./...

unit: controlplane deps
	IAMGATE_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 20m ./...
	cd test/monitoring && $(GO) test -count=1 ./...

# Graphviz and Chromium for the graph tests (dot renders the DOT output; a
# headless Chromium loads the HTML page). Installed from Debian only when
# missing (apt-get needs root, as on CI); "unit" then sets
# IAMGATE_REQUIRE_TOOLS so a test that cannot find them fails instead of
# skipping. A bare "go test" without them skips those tests and says why.
deps:
	@command -v dot >/dev/null && command -v chromium >/dev/null || { \
		echo "installing graphviz and chromium for the graph tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz chromium; }

# Builds kube-apiserver and etcd once (about 10 minutes); seconds afterwards.
controlplane:
	hack/build-control-plane.sh

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/arn
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/token
	$(GO) test -run '^$$' -fuzz '^FuzzLint$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/lint
	$(GO) test -run '^$$' -fuzz '^FuzzParseData$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/mapping/awsauth
	$(GO) test -run '^$$' -fuzz '^FuzzParseSectionYAML$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/mapping/awsauth
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/config
	$(GO) test -run '^$$' -fuzz '^FuzzReviewDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/server

bench: build
	hack/bench-token.sh

install:
	$(GO) install -trimpath -ldflags="$(LDFLAGS) $(STAMP)" ./cmd/iamgate ./cmd/iamgate-core

# One tar.gz per platform with both binaries, LICENSE, README.md and
# CHANGELOG.md, and SHA256SUMS, in $(DIST). Static (CGO_ENABLED=0) and
# -trimpath: the same commit and Go version give the same bytes anywhere.
dist:
	GO="$(GO)" VERSION="$(VERSION)" DATE="$(DATE)" LDFLAGS="$(LDFLAGS) $(STAMP)" hack/dist.sh $(DIST) $(PLATFORMS)

# Builds the archives twice, the second time from a copy of the tree at
# another path with an empty build cache, and compares the sums. Slow (a
# full compile per platform); run it before tagging, not in "make test".
dist-check:
	GO="$(GO)" VERSION="$(VERSION)" COMMIT="$(COMMIT)" DATE="$(DATE)" hack/dist-check.sh $(or $(CHECK_PLATFORMS),linux/amd64)

clean:
	rm -rf $(BIN) $(DIST)
