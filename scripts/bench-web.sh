#!/usr/bin/env bash
# The browser host next to its floor and the wasmtime host, in one run: GET
# and SET ops/s through the component with the JavaScript storage in Node and
# in headless Chromium (web/bench/), nexus's raw GET beside the floor
# component's (web/bench/floor/: one export calling one storage import,
# through the same jco with the same options, over the same JS storage;
# their rounds alternate), getMany of 100 keys through the JavaScript API,
# and the same GET and SET on the wasmtime host (host/benches/kv.rs, memory
# backend: 10 000 keys of 11 bytes, 32-byte values, one thread). Prints
# every figure, then the ratios and the targets, and ends with
#   ratio web_get_vs_floor R           nexus raw GET / floor GET, Chromium
#   ratio web_get_many_keys_per_s N    getMany of 100 keys, JS API, Chromium
# A benchmark, not a test: it asserts nothing.
#
#   scripts/bench-web.sh              # 10 s per JS figure (5 rounds, median)
#   SECONDS_PER=4 scripts/bench-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER=${SECONDS_PER:-10}
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

(cd web && npm ci --silent --no-audit --no-fund && npm run build --silent && npm run build:floor --silent)

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
ratios = {}
for where in ("node", "chromium"):
    ours, floor = web.get((where, "GET raw")), web.get((where, "GET floor"))
    if ours and floor:
        ratios[where] = ours / floor
        print(f"{where:<9} GET raw {ours:>9} ops/s = {ours / floor:.2f} of the floor component ({floor} ops/s)"
              + ("; target 0.8: " + ("met" if ours / floor >= 0.8 else "not met") if where == "chromium" else ""))
    many = web.get((where, "getMany api, 100 keys (keys/s)"))
    if many:
        print(f"{where:<9} getMany api, 100 keys {many:>9} keys/s"
              + ("; target 1000000: " + ("met" if many >= 1_000_000 else "not met") + f" ({many / 1_000_000:.2f})" if where == "chromium" else ""))
# Last, for other tools: exactly these two lines.
print(f"ratio web_get_vs_floor {ratios['chromium']:.2f}" if "chromium" in ratios else "ratio web_get_vs_floor n/a")
many = web.get(("chromium", "getMany api, 100 keys (keys/s)"))
print(f"ratio web_get_many_keys_per_s {many}" if many else "ratio web_get_many_keys_per_s n/a")
PY
