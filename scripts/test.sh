#!/usr/bin/env bash
# The test command (the README's, and what .ci/run calls): sets up what a
# fresh machine lacks, then runs every suite. Fails loudly; skips nothing.
#
#   - the wasm32-wasip2 target, Python's requests, Debian's Chromium (for the
#     browser tests; browsers cannot be downloaded here), web/'s npm packages
#     (npm ci, from the committed lock file);
#   - npm run build: the guest through jco into web/gen/ (the browser host,
#     which the HTTP suite and the PyKV walk also run against);
#   - cargo test --workspace; the PyKV walk; web/'s node --test suites and the
#     console page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2
python3 -m pip install -q requests
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Debian's chromium is needed for the browser tests: apt-get install -y chromium (as root)" >&2
        exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
(cd web && npm ci --no-audit --no-fund && npm run build)

cargo test --workspace
python3 -m unittest discover -s tests/python -v
(cd web && npm test)
