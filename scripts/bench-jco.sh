#!/usr/bin/env bash
# Why web/ pins jco 1.13.0: the same guest, the same JavaScript storage and
# the same loop (web/bench/, Node only) with the glue of several jco
# releases, one after the other in one run. Each release is installed into
# a temporary directory; web/ itself is not touched. A benchmark, not a
# test: it asserts nothing.
#
#   scripts/bench-jco.sh                       # the releases below
#   scripts/bench-jco.sh 1.13.0 1.35.0         # any others
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/servers.sh
source scripts/servers.sh

VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(1.12.0 1.13.0 1.13.1 1.17.0 1.18.0 1.35.0)
SECONDS_PER=${SECONDS_PER:-5}

(cd web && npm ci --silent --no-audit --no-fund)
WASM=$(cargo run -q -p nexus-build --bin nexus-component-wasm)

for version in "${VERSIONS[@]}"; do
    jco="$WORK/jco-$version"
    run="$WORK/run-$version"
    mkdir -p "$jco" "$run"
    npm install --silent --no-audit --no-fund --prefix "$jco" "@bytecodealliance/jco@$version" >/dev/null
    cp -r web/src web/bench web/scripts web/test web/package.json "$run/"
    ln -s "$PWD/web/node_modules" "$run/node_modules"
    node --input-type=module -e "
      import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
      import { dirname } from 'node:path';
      import { createRequire } from 'node:module';
      const { transpile } = await import(createRequire('$jco/').resolve('@bytecodealliance/jco'));
      const { files } = await transpile(readFileSync('$WASM'), { name: 'nexus_component', instantiation: 'async', outDir: '$run/gen/' });
      for (const [path, contents] of Object.entries(files)) { mkdirSync(dirname(path), { recursive: true }); writeFileSync(path, contents); }
    "
    echo "== jco $version"
    node "$run/bench/bench.js" --node-only --seconds "$SECONDS_PER" | grep raw
done
