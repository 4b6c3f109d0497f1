#!/usr/bin/env bash
# nexus serve against Redis, side by side on this machine: GET and SET of
# 32-byte values at 50 connections (SETs over 100,000 random keys), and durable SET (nexus's file backend
# against Redis with appendfsync always). Prints req/s for each and the
# ratio nexus/Redis. Also nexus's GET against the framework's floor (a
# static axum route answering the same body, host/examples/static_route.rs,
# under the same wrk), and durable SETs of one hot key from all 50
# connections. Ends with `ratio NAME VALUE` lines. A benchmark, not a
# test: it asserts nothing.
#
#   scripts/bench-http.sh            # 10 s per run
#   DURATION=30 scripts/bench-http.sh
#
# Installs what it needs from Debian (redis-server, redis-tools, wrk) and
# builds nexus in release mode (into $CARGO_TARGET_DIR if set). Everything
# listens on 127.0.0.1 only and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=50
NEXUS_PORT=18700
REDIS_PORT=18701
STATIC_PORT=18702
VALUE=$(printf 'v%.0s' $(seq 32))   # 32 bytes

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-benchmark >/dev/null || need+=(redis-tools)
command -v wrk >/dev/null || need+=(wrk)
if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release -q -p nexus-host
# Separately: an example builds with the dev-dependencies, whose features
# must not change the nexus binary measured.
cargo build --release -q -p nexus-host --example static_route
NEXUS=${CARGO_TARGET_DIR:-target}/release/nexus
STATIC_ROUTE=${CARGO_TARGET_DIR:-target}/release/examples/static_route
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

# start_nexus ARGS...: a nexus server on NEXUS_PORT (stopped by stop_all).
start_nexus() {
    NEXUS_LOG=warn "$NEXUS" "$@" serve --addr "127.0.0.1:$NEXUS_PORT" >/dev/null &
    pids+=($!)
    wait_for_port "$NEXUS_PORT"
}

# start_redis ARGS...: a redis-server on REDIS_PORT with nothing else saved.
start_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK" --save '' \
        --daemonize no "$@" >/dev/null &
    pids+=($!)
    wait_for_port "$REDIS_PORT"
}

stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
}

# start_static_route: the framework's floor on STATIC_PORT (stopped by stop_all).
start_static_route() {
    "$STATIC_ROUTE" "127.0.0.1:$STATIC_PORT" >/dev/null &
    pids+=($!)
    wait_for_port "$STATIC_PORT"
}

write_set_script "$WORK/set.lua"
# Every connection SETs the same key: writers of one key race for it.
cat >"$WORK/hot.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"bench:hot","value":"$VALUE"}'
LUA

# wrk_rps PATH [SCRIPT]: requests per second, and fail if any request failed.
# PORT (default NEXUS_PORT) picks the server.
wrk_rps() {
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" ${2:+-s "$2"} "http://127.0.0.1:${PORT:-$NEXUS_PORT}$1")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "wrk saw errors:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/Requests\/sec/ {print int($2)}' <<<"$out"
}

# redis_rps TEST: requests per second of redis-benchmark's TEST (set or get).
redis_rps() {
    local requests=$((DURATION * 40000))
    redis-benchmark -p "$REDIS_PORT" -c "$CONNECTIONS" -d 32 -r 100000 -n "$requests" -t "$1" --csv -q |
        awk -F'"' 'NR > 1 {print int($4)}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "== in memory: nexus serve --memory vs redis-server (no persistence)"
start_nexus --memory
curl -sf -X POST "http://127.0.0.1:$NEXUS_PORT/set?ns=bench" \
    -H 'content-type: application/json' -d "{\"key\":\"bench:1\",\"value\":\"$VALUE\"}" >/dev/null
nexus_get=$(wrk_rps "/get/bench:1?ns=bench")
nexus_set=$(wrk_rps "/set?ns=bench" "$WORK/set.lua")
stop_all
start_redis --appendonly no
redis_set=$(redis_rps set)
redis_get=$(redis_rps get)
stop_all

echo "== the framework's floor: a static axum route, same body as nexus's GET"
start_static_route
static_get=$(PORT=$STATIC_PORT wrk_rps "/get/bench:1?ns=bench")
stop_all

echo "== durable: nexus serve (file backend) vs redis-server --appendfsync always"
start_nexus --data "$WORK/nexus-data"
nexus_durable=$(wrk_rps "/set?ns=bench" "$WORK/set.lua")
stop_all
start_redis --appendonly yes --appendfsync always
redis_durable=$(redis_rps set)
stop_all

echo "== hot key: $CONNECTIONS connections SETting one key, nexus serve (file backend)"
start_nexus --data "$WORK/nexus-hot"
nexus_hot=$(wrk_rps "/set?ns=bench" "$WORK/hot.lua")
stop_all

printf '\n%-34s %12s %12s %8s\n' "$CONNECTIONS connections, 32-byte values" "nexus req/s" "redis req/s" "ratio"
printf '%-34s %12s %12s %8s\n' "GET (memory)" "$nexus_get" "$redis_get" "$(ratio "$nexus_get" "$redis_get")"
printf '%-34s %12s %12s %8s\n' "SET (memory)" "$nexus_set" "$redis_set" "$(ratio "$nexus_set" "$redis_set")"
printf '%-34s %12s %12s %8s\n' "durable SET (file / fsync always)" "$nexus_durable" "$redis_durable" "$(ratio "$nexus_durable" "$redis_durable")"
printf '%-34s %12s %12s %8s\n' "durable SET, one hot key (file)" "$nexus_hot" "-" "-"
printf '\n%-34s %12s %12s %8s\n' "against the framework's floor" "nexus req/s" "static req/s" "ratio"
printf '%-34s %12s %12s %8s\n' "GET (memory) / static axum route" "$nexus_get" "$static_get" "$(ratio "$nexus_get" "$static_get")"
echo
echo "ratio get_vs_redis $(ratio "$nexus_get" "$redis_get")"
echo "ratio set_vs_redis $(ratio "$nexus_set" "$redis_set")"
echo "ratio durable_set_vs_redis $(ratio "$nexus_durable" "$redis_durable")"
echo "ratio get_vs_static_route $(ratio "$nexus_get" "$static_get")"
echo "ratio hot_key_set_per_s $nexus_hot"
