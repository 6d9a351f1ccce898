# iamgate build and test entry points. Everything the tests need comes from
# the Go module proxy; aws-cli and moto are used when the machine has them.
GO        ?= go
BIN       ?= bin
FUZZTIME  ?= 5s
LDFLAGS   ?= -s -w
export GOFLAGS ?= -buildvcs=false
# kube-apiserver and etcd for the real-control-plane tests (test/kube), built
# from source by hack/build-control-plane.sh; envtest finds them through
# KUBEBUILDER_ASSETS.
CONTROLPLANE_DIR := $(or $(IAMGATE_BUILD_CACHE),$(HOME)/.cache/iamgate)/k8s-v1.33.13/bin
export KUBEBUILDER_ASSETS := $(CONTROLPLANE_DIR)

.PHONY: all build demo test vet unit fuzz bench install clean controlplane

all: build

build:
	$(GO) build -trimpath -ldflags="$(LDFLAGS)" -o $(BIN)/iamgate ./cmd/iamgate
	$(GO) build -trimpath -ldflags="$(LDFLAGS)" -o $(BIN)/iamgate-core ./cmd/iamgate-core
	$(GO) build -trimpath -ldflags="$(LDFLAGS)" -o $(BIN)/iamgate-demo ./cmd/iamgate-demo

# The local run: an STS stand-in, the real server and client, no AWS account.
demo:
	$(GO) run ./cmd/iamgate-demo

# Every test: vet, the whole tree under the race detector, then each fuzz
# target briefly.
test: vet unit fuzz

vet:
	$(GO) vet ./...

unit: controlplane
	$(GO) test -race -count=1 -timeout 20m ./...

# Builds kube-apiserver and etcd once (about 10 minutes); seconds afterwards.
controlplane:
	hack/build-control-plane.sh

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/arn
	$(GO) test -run '^$$' -fuzz '^FuzzValidate$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s ./internal/token

bench: build
	hack/bench-token.sh

install:
	$(GO) install -trimpath -ldflags="$(LDFLAGS)" ./cmd/iamgate ./cmd/iamgate-core

clean:
	rm -rf $(BIN)
