#!/usr/bin/env bash
# Webhook throughput, side by side in one run: a TLS server that answers a
# fixed TokenReview without reading it (the ceiling), iamgate with one
# repeated token (identity-cache hit) and iamgate with distinct tokens (one
# STS call each), against the STS double (hack/fakests) that answers at once.
# Set AIA_BIN to an aws-iam-authenticator binary you built yourself to add it
# to every round with the same config, fake STS and load.
#
#   hack/bench-server.sh                        # ROUNDS=3 DUR=5s CONNS=16
#   AIA_BIN=/path/to/aws-iam-authenticator ROUNDS=5 hack/bench-server.sh
#
# Both servers are unmodified release builds: they reach the double through
# HTTPS_PROXY (a CONNECT proxy in fakests) and trust its CA through
# SSL_CERT_FILE. Note aws-iam-authenticator always binds :21363 for metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-5s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-16}
KEYS=${KEYS:-5000}
AIA_BIN=${AIA_BIN:-}

W=$(mktemp -d "${TMPDIR:-/tmp}/iamgate-bench.XXXXXX")
pids=()
# aws-iam-authenticator ignores its first SIGTERM, so whatever is left after a
# second is killed outright.
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 1
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

make -s build >/dev/null
go build -o "$W/loadgen" ./hack/loadgen
go build -o "$W/fakests" ./hack/fakests

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitline() { # file pattern: wait until a line matching pattern appears
	for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	echo "timed out waiting for $2 in $1" >&2; cat "$1" >&2; exit 1
}
waitport() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

"$W/fakests" -ca "$W/sts-ca.pem" >"$W/fakests.out" 2>&1 & pids+=($!)
waitline "$W/fakests.out" control=
PROXY=$(sed -n 's/.*proxy=\([^ ]*\).*/\1/p' "$W/fakests.out")
CONTROL=$(sed -n 's/.*control=\([^ ]*\).*/\1/p' "$W/fakests.out")

"$W/loadgen" null >"$W/null.out" 2>&1 & pids+=($!)
waitline "$W/null.out" addr=
NULL_URL="https://$(sed -n 's/addr=//p' "$W/null.out")/authenticate"

cat >"$W/config.yaml" <<'YAML'
clusterID: bench
server:
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/bench
    username: bench:{{SessionName}}
    groups:
    - bench
YAML

# Same environment for both servers: no AWS account, no instance metadata.
srvenv=(env HTTPS_PROXY="http://$PROXY" SSL_CERT_FILE="$W/sts-ca.pem" AWS_REGION=us-west-2
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null)

IG_PORT=$(freeport); IG_HEALTH=$(freeport)
"${srvenv[@]}" bin/iamgate-core server -c "$W/config.yaml" --state-dir "$W/iamgate" \
	--generate-kubeconfig "$W/iamgate-kubeconfig.yaml" --port "$IG_PORT" --health-port "$IG_HEALTH" \
	>"$W/iamgate.log" 2>&1 & pids+=($!)
waitport "$IG_PORT"
IG_URL="https://127.0.0.1:$IG_PORT/authenticate"

if [ -n "$AIA_BIN" ]; then
	AIA_PORT=$(freeport)
	mkdir -p "$W/aia"
	(cd "$W" && exec "${srvenv[@]}" "$AIA_BIN" server -c "$W/config.yaml" --state-dir "$W/aia" \
		--generate-kubeconfig "$W/aia-kubeconfig.yaml" --port "$AIA_PORT" >"$W/aia.log" 2>&1) & pids+=($!)
	waitport "$AIA_PORT"
	AIA_URL="https://127.0.0.1:$AIA_PORT/authenticate"
fi

load() { # label url mode
	"$W/loadgen" run -label "$1" -url "$2" -tokens "$3" -control "$CONTROL" -c "$CONNS" -d "$DUR" -warmup "$WARMUP" -keys "$KEYS"
}
field() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }

echo "# $(nproc) cores, $(go version | cut -d' ' -f3), c=$CONNS, ${DUR} per case after ${WARMUP} warm-up, $ROUNDS rounds; logs in $W"
ratios=()
for r in $(seq "$ROUNDS"); do
	n=$(load null "$NULL_URL" repeated); echo "round $r $n"
	rep=$(load iamgate-repeated "$IG_URL" repeated); echo "round $r $rep"
	dis=$(load iamgate-distinct "$IG_URL" distinct); echo "round $r $dis"
	line=$(awk -v a="$(field "$rep" rps)" -v b="$(field "$n" rps)" -v c="$(field "$rep" p99)" -v d="$(field "$n" p99)" \
		'BEGIN { printf "repeated/null_rps=%.2f repeated/null_p99=%.2f", a/b, c/d }')
	if [ -n "$AIA_BIN" ]; then
		adis=$(load aia-distinct "$AIA_URL" distinct); echo "round $r $adis"
		arep=$(load aia-repeated "$AIA_URL" repeated); echo "round $r $arep"
		line+=$(awk -v a="$(field "$dis" rps)" -v b="$(field "$adis" rps)" -v c="$(field "$rep" rps)" -v d="$(field "$arep" rps)" \
			'BEGIN { printf " distinct_iamgate/aia_rps=%.2f repeated_iamgate/aia_rps=%.2f", a/b, c/d }')
	fi
	echo "round $r ratios: $line"
	ratios+=("$line")
done
echo "# summary (min … max over rounds)"
printf '%s\n' "${ratios[@]}" | awk '
	{ for (i = 1; i <= NF; i++) { split($i, kv, "="); k = kv[1]; v = kv[2] + 0
		if (!(k in lo) || v < lo[k]) lo[k] = v; if (!(k in hi) || v > hi[k]) hi[k] = v; s[k] = s[k] " " kv[2]
		if (!(k in seen)) { order[++n] = k; seen[k] = 1 } } }
	END { for (i = 1; i <= n; i++) printf "%-28s %.2f … %.2f  (%s )\n", order[i], lo[order[i]], hi[order[i]], s[order[i]] }'
