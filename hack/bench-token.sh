#!/usr/bin/env bash
# Measures "iamgate token" as kubectl runs it: a warm cache (served by the
# lean front alone) and a miss (front execs iamgate-core, which resolves
# credentials and signs). No network: static example keys, no AWS account.
# Results are recorded in docs/benchmarks.md.
#
#   hack/bench-token.sh            # build into bin/ and measure
#   RUNS=1000 hack/bench-token.sh  # more runs
#
# Needs hyperfine (apt-get install hyperfine).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
RUNS=${RUNS:-300}
MISS_RUNS=${MISS_RUNS:-50}

command -v hyperfine >/dev/null || { echo "hyperfine not found: apt-get install -y hyperfine" >&2; exit 1; }

go build -trimpath -ldflags="-s -w" -o "$BIN/iamgate" ./cmd/iamgate
go build -trimpath -ldflags="-s -w" -o "$BIN/iamgate-core" ./cmd/iamgate-core

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/empty"

# An isolated client environment: nothing from the machine's AWS setup.
export HOME="$work"
export IAMGATE_CACHE_DIR="$work/cache"
export AWS_CONFIG_FILE="$work/empty" AWS_SHARED_CREDENTIALS_FILE="$work/empty"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-west-2 AWS_EC2_METADATA_DISABLED=true
export KUBERNETES_EXEC_INFO='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}'
# AWS_CA_BUNDLE too: the SDK reads and parses the whole bundle while loading
# its config, even when no request is made (about 5 ms of CPU per miss for
# the system bundle).
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_DEFAULT_REGION AWS_CA_BUNDLE

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3-4)"
echo "binaries: $(du -h "$BIN/iamgate" | cut -f1) front, $(du -h "$BIN/iamgate-core" | cut -f1) core"

# Warm the cache (and check the output is an ExecCredential).
"$BIN/iamgate" token -i bench | grep -q '"kind":"ExecCredential"'

echo
echo "== warm cache (front only)"
hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$work/hit.json" "$BIN/iamgate token -i bench"

echo
echo "== cache miss (--no-cache: front execs core, credentials + SigV4 presign)"
hyperfine -N --warmup 3 --runs "$MISS_RUNS" --export-json "$work/miss.json" "$BIN/iamgate token -i bench --no-cache"

python3 - "$work/hit.json" "$work/miss.json" <<'EOF' || true
import json, sys
for name, path in (("hit", sys.argv[1]), ("miss", sys.argv[2])):
    r = json.load(open(path))["results"][0]
    print(f"{name}: median {r['median']*1e3:.2f} ms, mean {r['mean']*1e3:.2f} ms "
          f"± {r['stddev']*1e3:.2f}, min {r['min']*1e3:.2f}, max {r['max']*1e3:.2f} ms")
EOF
