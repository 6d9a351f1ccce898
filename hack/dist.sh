#!/bin/sh
# Builds iamgate's release archives: usage: dist.sh OUTDIR OS/ARCH...
# One iamgate_VERSION_OS_ARCH.tar.gz per platform with both binaries,
# LICENSE, README.md and CHANGELOG.md, then OUTDIR/SHA256SUMS. Everything that
# could differ between two builds of one commit is pinned: -trimpath, no cgo,
# no VCS stamping, file times set to the commit time, owner 0, fixed modes,
# names sorted, gzip without a name or time. Needs GNU tar (gtar on macOS:
# TAR=gtar). Called by "make dist", which passes VERSION, DATE and LDFLAGS.
set -eu

out=${1:?usage: dist.sh OUTDIR OS/ARCH...}
shift
[ $# -gt 0 ] || { echo "dist.sh: no platforms given" >&2; exit 2; }
GO=${GO:-go}
TAR=${TAR:-tar}
: "${VERSION:?set VERSION}" "${LDFLAGS:?set LDFLAGS}"
if ! "$TAR" --version 2>/dev/null | grep -q 'GNU tar'; then
	echo "dist.sh: $TAR is not GNU tar; install it and run with TAR=gtar" >&2
	exit 2
fi
# The archive entries' time: the commit time (DATE, from the Makefile), so
# the bytes do not depend on when or where the build ran.
mtime=${DATE:-1970-01-01T00:00:00Z}

root=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

for p in "$@"; do
	os=${p%/*}
	arch=${p#*/}
	ext=
	[ "$os" = windows ] && ext=.exe
	name=iamgate_${VERSION}_${os}_${arch}
	dir=$stage/$name
	mkdir -p "$dir"
	for bin in iamgate iamgate-core; do
		(cd "$root" && CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOFLAGS=-buildvcs=false \
			"$GO" build -trimpath -ldflags="$LDFLAGS" -o "$dir/$bin$ext" "./cmd/$bin")
		chmod 0755 "$dir/$bin$ext"
	done
	for f in LICENSE README.md CHANGELOG.md; do
		cp "$root/$f" "$dir/$f"
		chmod 0644 "$dir/$f"
	done
	chmod 0755 "$dir"
	"$TAR" -C "$stage" --sort=name --mtime="$mtime" --owner=0 --group=0 --numeric-owner \
		--format=gnu -cf - "$name" | gzip -n -9 >"$out/$name.tar.gz"
	echo "wrote $out/$name.tar.gz"
done

cd "$out"
if command -v sha256sum >/dev/null 2>&1; then
	sha256sum -- *.tar.gz >SHA256SUMS
else
	shasum -a 256 -- *.tar.gz >SHA256SUMS
fi
echo "wrote $out/SHA256SUMS"
