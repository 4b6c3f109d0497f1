#!/usr/bin/env bash
# The edge component in the Spin-compatible harness (a fresh instance per
# request, pooling allocator, Spin SQLite over rusqlite) next to nexus serve
# on its durable file backend and next to the edge's floor (edge/floor: a
# bare Spin component doing one SQLite statement per request, in the same
# harness), in one run: GET and SET of 32-byte values at 1 and 50
# connections. Prints req/s, failed requests and p99 latency of each, the
# ratios edge / nexus serve and edge / floor, and ends with
# `ratio edge_get_vs_floor R` and `ratio edge_set_vs_floor R` (50
# connections). A benchmark, not a test: it asserts nothing.
#
#   scripts/bench-edge.sh            # 10 s per run
#   DURATION=30 scripts/bench-edge.sh
#
# Installs wrk from Debian and builds both servers in release mode.
# Everything listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
SERVE_PORT=18710
EDGE_PORT=18711
FLOOR_PORT=18712
VALUE=$(printf 'v%.0s' $(seq 32))   # 32 bytes

if ! command -v wrk >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release -q -p nexus-host -p nexus-edge-harness
cargo build --release -q -p nexus-edge-floor --target wasm32-wasip2
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

NEXUS_LOG=warn target/release/nexus --data "$WORK/nexus-data" serve --addr "127.0.0.1:$SERVE_PORT" >/dev/null &
pids+=($!)
# The component's stderr says when a client gave up on an answer (wrk's
# timeout): those are counted as errors below, not printed.
target/release/nexus-edge-harness --addr "127.0.0.1:$EDGE_PORT" --database "$WORK/edge.db" >/dev/null 2>&1 &
pids+=($!)
target/release/nexus-edge-harness --addr "127.0.0.1:$FLOOR_PORT" --database "$WORK/floor.db" \
    --component target/wasm32-wasip2/release/nexus_edge_floor.wasm >/dev/null 2>&1 &
pids+=($!)
wait_for_port "$SERVE_PORT"
wait_for_port "$EDGE_PORT"
wait_for_port "$FLOOR_PORT"

write_set_script "$WORK/set.lua"

for port in "$SERVE_PORT" "$EDGE_PORT" "$FLOOR_PORT"; do
    curl -sf -X POST "http://127.0.0.1:$port/set?ns=bench" \
        -H 'content-type: application/json' -d "{\"key\":\"bench:1\",\"value\":\"$VALUE\"}" >/dev/null
done

# rps PORT CONNECTIONS PATH [SCRIPT]: "REQ/S ERRORS P99": requests per
# second, the requests that failed (non-2xx, or no answer within wrk's 2 s
# timeout) and the 99th percentile latency.
#
# Each run starts on a settled disk: the durable runs before it (nexus
# serve's group commits come just before the edge's) leave dirty pages that
# the kernel writes back while the next server fsyncs, which charged one
# server for another's writes.
rps() {
    local out threads=$(($2 < 2 ? 1 : 2))
    sync
    sleep 1
    out=$(wrk -t"$threads" -c"$2" -d"${DURATION}s" --latency ${4:+-s "$4"} "http://127.0.0.1:$1$3")
    awk '/Requests\/sec/ {rps = int($2)}
         /Non-2xx/ {errors += $NF}
         /Socket errors/ {gsub(",", ""); errors += $4 + $6 + $8 + $10}
         $1 == "99%" {p99 = $2}
         END {printf "%d %d %s\n", rps, errors, p99}' <<<"$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
declare -A floor_ratio

printf '%-20s %11s %7s %9s %12s %7s %9s %7s %12s %7s %9s %7s\n' "32-byte values" \
    "edge req/s" errors p99 "serve req/s" errors p99 "/serve" "floor req/s" errors p99 "/floor"
for connections in 1 50; do
    for op in GET SET; do
        if [ "$op" = GET ]; then args=("/get/bench:1?ns=bench"); else args=("/set?ns=bench" "$WORK/set.lua"); fi
        read -r serve serve_errors serve_p99 < <(rps "$SERVE_PORT" "$connections" "${args[@]}")
        read -r edge edge_errors edge_p99 < <(rps "$EDGE_PORT" "$connections" "${args[@]}")
        read -r floor floor_errors floor_p99 < <(rps "$FLOOR_PORT" "$connections" "${args[@]}")
        printf '%-20s %11s %7s %9s %12s %7s %9s %7s %12s %7s %9s %7s\n' "$op, $connections conn." \
            "$edge" "$edge_errors" "$edge_p99" "$serve" "$serve_errors" "$serve_p99" "$(ratio "$edge" "$serve")" \
            "$floor" "$floor_errors" "$floor_p99" "$(ratio "$edge" "$floor")"
        if [ "$connections" = 50 ]; then
            floor_ratio[$op]=$(ratio "$edge" "$floor")
        fi
    done
done
echo "ratio edge_get_vs_floor ${floor_ratio[GET]}"
echo "ratio edge_set_vs_floor ${floor_ratio[SET]}"
