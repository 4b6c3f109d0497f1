#!/usr/bin/env bash
# The browser host next to the wasmtime host, in one run: GET and SET ops/s
# through the component with the JavaScript storage in Node and in headless
# Chromium (web/bench/), and the same operations on the wasmtime host
# (host/benches/kv.rs, memory backend: 10 000 keys of 11 bytes, 32-byte
# values, one thread). Prints every figure, then the ratios to the wasmtime
# host and to the targets. A benchmark, not a test: it asserts nothing.
#
#   scripts/bench-web.sh              # 10 s per JS figure (5 rounds, median)
#   SECONDS_PER=4 scripts/bench-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=${SECONDS_PER:-10}
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

(cd web && npm ci --silent --no-audit --no-fund && npm run build --silent)

echo "== wasmtime host (cargo bench -p nexus-host --bench kv -- memory/)"
cargo bench -q -p nexus-host --bench kv -- memory/ 2>/dev/null | tee "$WORK/kv.txt" | grep -E 'ops/s|ratio'
echo "== browser host (node web/bench/bench.js --seconds $SECONDS_PER)"
node web/bench/bench.js --seconds "$SECONDS_PER" | tee "$WORK/web.txt"

echo "== ratios"
python3 - "$WORK/kv.txt" "$WORK/web.txt" <<'PY'
import re, sys
kv = {m[1]: float(m[2]) for m in re.finditer(r"(memory/\S+)\s+([\d.]+) ops/s", open(sys.argv[1]).read())}
web = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    m = re.match(r"(node \S+|chromium \S+)\s+(.+?)\s{2,}(\d+)\s+(\d+)$", line)
    if m:
        web[(m[1].split()[0], m[2].strip())] = int(m[3])
targets = {"GET raw": 200_000, "SET raw": 80_000}
for where in ("node", "chromium"):
    for op, anchor in (("GET", "memory/get_wasm"), ("SET", "memory/set_wasm")):
        ours = web.get((where, f"{op} raw"))
        if ours is None or anchor not in kv:
            continue
        line = f"{where:<9} {op} raw {ours:>9} ops/s = {ours / kv[anchor]:.2f} of the wasmtime host ({kv[anchor]:.0f} ops/s)"
        if where == "chromium":
            target = targets[f"{op} raw"]
            line += f"; target {target}: {'met' if ours >= target else 'not met'} ({ours / target:.2f})"
        print(line)
PY
