#!/usr/bin/env bash
# What one SET costs the edge harness under load: runs one harness (nexus's
# edge component, its floor, or any component file) alone, drives it with
# wrk (SETs of 32-byte values over 100,000 keys), and prints requests/s,
# p99, the harness's user and system CPU time per request (from /proc) and
# the machine's idle time (idle + iowait) over the run. Used to tell CPU
# spent from time waited ("The edge's SET under 50 writers" in
# docs/benchmarks.md). A benchmark, not a test: it asserts nothing.
#
#   scripts/edge-cpu.sh edge              # 50 connections, 10 s
#   scripts/edge-cpu.sh floor 50 10
#   scripts/edge-cpu.sh path/to/component.wasm 50 10
#
# Expects wrk and the release builds that scripts/bench-edge.sh makes.
set -euo pipefail
cd "$(dirname "$0")/.."

WHICH=${1:?edge, floor or a component file}
CONNECTIONS=${2:-50}
SECONDS_=${3:-10}
PORT=18713
VALUE=$(printf 'v%.0s' $(seq 32))   # 32 bytes

case "$WHICH" in
    edge) component=() ;;
    floor) component=(--component target/wasm32-wasip2/release/nexus_edge_floor.wasm) ;;
    *) component=(--component "$WHICH") ;;
esac
# shellcheck source=scripts/servers.sh
source scripts/servers.sh
target/release/nexus-edge-harness --addr "127.0.0.1:$PORT" --database "$WORK/db" "${component[@]}" >/dev/null 2>&1 &
harness=$!
pids+=("$harness")
wait_for_port "$PORT"
write_set_script "$WORK/set.lua"
curl -sf -X POST "http://127.0.0.1:$PORT/set?ns=bench" \
    -H 'content-type: application/json' -d "{\"key\":\"bench:1\",\"value\":\"$VALUE\"}" >/dev/null

# ticks: the harness's user and system CPU time, in clock ticks.
ticks() { awk '{print $14, $15}' "/proc/$harness/stat"; }
# idle: the machine's idle and iowait time, in clock ticks.
idle() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
read -r user0 system0 < <(ticks)
idle0=$(idle)
out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_}s" --latency -s "$WORK/set.lua" "http://127.0.0.1:$PORT/set?ns=bench")
read -r user1 system1 < <(ticks)
idle1=$(idle)
hz=$(getconf CLK_TCK)
awk -v out="$out" -v du=$((user1 - user0)) -v ds=$((system1 - system0)) -v di=$((idle1 - idle0)) \
    -v hz="$hz" -v which="$WHICH" -v c="$CONNECTIONS" 'BEGIN {
    n = split(out, lines, "\n")
    for (i = 1; i <= n; i++) {
        split(lines[i], f, " ")
        if (lines[i] ~ /requests in/) requests = f[1]
        if (lines[i] ~ /Requests\/sec/) rps = f[2]
        if (f[1] == "99%") p99 = f[2]
    }
    printf "%s, %d connections: %d req/s, p99 %s, CPU per request %.3f ms user + %.3f ms system, machine idle %.2f s\n",
        which, c, rps, p99, du * 1000 / hz / requests, ds * 1000 / hz / requests, di / hz
}'
