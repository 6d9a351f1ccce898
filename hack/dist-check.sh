#!/bin/sh
# Checks that "make dist" is reproducible: usage: dist-check.sh OS/ARCH...
# Builds the archives once here, then again from a copy of the tracked files
# at another path with an empty Go build cache, and compares SHA256SUMS.
# VERSION, COMMIT and DATE come from the Makefile (the copy has no .git).
set -eu
[ $# -gt 0 ] || set -- linux/amd64
: "${VERSION:?}" "${COMMIT:?}" "${DATE:?}"
MAKE=${MAKE:-make}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

"$MAKE" -C "$root" -s dist DIST="$tmp/first" PLATFORMS="$*"

mkdir -p "$tmp/elsewhere/src"
(cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$tmp/elsewhere/src")
GOCACHE="$tmp/gocache" "$MAKE" -C "$tmp/elsewhere/src" -s dist DIST="$tmp/second" PLATFORMS="$*" \
	VERSION="$VERSION" COMMIT="$COMMIT" DATE="$DATE"

if diff "$tmp/first/SHA256SUMS" "$tmp/second/SHA256SUMS"; then
	echo "reproducible: $*"
	cat "$tmp/first/SHA256SUMS"
else
	echo "dist-check: the two builds differ (first, then second above)" >&2
	exit 1
fi
