#!/usr/bin/env bash
# Builds kube-apiserver v1.33.13 and etcd v3.5.21 from the Go module proxy
# (hack/controlplane pins the sources) for the tests in internal/testsupport/kube and
# test/e2e/kube. No prebuilt binaries are downloaded: only Go is needed.
#
# Output: ${IAMGATE_BUILD_CACHE:-$HOME/.cache/iamgate}/k8s-v1.33.13/bin
# Idempotent: does nothing when both binaries exist and report the right
# version. The first build takes ~10 minutes and ~3 GB of Go build cache;
# the build flags below are fixed so a rebuild reuses that cache.
set -euo pipefail

K8S_VERSION=v1.33.13
ETCD_VERSION=3.5.21

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="${here}/controlplane"
cache="${IAMGATE_BUILD_CACHE:-${HOME}/.cache/iamgate}"
out="${cache}/k8s-${K8S_VERSION}/bin"

die() { echo "build-control-plane: error: $*" >&2; exit 1; }
say() { echo "build-control-plane: $*"; }

GO="${GO:-go}"
command -v "${GO}" >/dev/null 2>&1 || die "go not found on PATH (install Go 1.24 or newer)"

have_apiserver() {
	[[ -x "${out}/kube-apiserver" ]] &&
		"${out}/kube-apiserver" --version 2>/dev/null | grep -qx "Kubernetes ${K8S_VERSION}"
}
have_etcd() {
	[[ -x "${out}/etcd" ]] &&
		"${out}/etcd" --version 2>/dev/null | grep -q "^etcd Version: ${ETCD_VERSION}\$"
}

if have_apiserver && have_etcd; then
	say "kube-apiserver ${K8S_VERSION} and etcd ${ETCD_VERSION} already in ${out}"
	exit 0
fi

mkdir -p "${out}" || die "cannot create ${out}"

# Fixed environment and flags: any change here invalidates the build cache.
export GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
unset GOOS GOARCH
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=33"
	ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=1970-01-01T00:00:00Z"
done

# build NAME PACKAGE: builds into a temporary file and renames it into
# place, so an interrupted build never leaves a half-written binary.
build() {
	local name="$1" pkg="$2" start=${SECONDS} tmp
	tmp="$(mktemp "${out}/.${name}.XXXXXX")" || die "cannot create a temporary file in ${out}"
	say "building ${name} (${pkg}); about 10 minutes with a cold Go build cache, seconds with a warm one"
	if ! (cd "${module}" && "${GO}" build -trimpath -ldflags="${ldflags}" -o "${tmp}" "${pkg}"); then
		rm -f "${tmp}"
		die "go build ${pkg} failed (see above); needs network access to the Go module proxy the first time"
	fi
	chmod 0755 "${tmp}"
	mv -f "${tmp}" "${out}/${name}"
	say "built ${out}/${name} in $((SECONDS - start))s"
}

(cd "${module}" && "${GO}" mod download) || die "go mod download failed in ${module} (is the Go module proxy reachable?)"

have_apiserver || build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
have_etcd || build etcd go.etcd.io/etcd/server/v3

have_apiserver || die "${out}/kube-apiserver does not report Kubernetes ${K8S_VERSION}"
have_etcd || die "${out}/etcd does not report etcd Version: ${ETCD_VERSION}"
say "ready: ${out} (export KUBEBUILDER_ASSETS=${out})"
