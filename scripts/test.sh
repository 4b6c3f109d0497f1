#!/usr/bin/env bash
# The test command (the README's, and what .ci/run calls): sets up what a
# fresh machine lacks, then runs every suite. Fails loudly; skips nothing.
#
#   - the wasm32-wasip2 target, Python's packages (requests, schemathesis:
#     tests/python/requirements.txt), Debian's Chromium (for the
#     browser tests; browsers cannot be downloaded here), web/'s npm packages
#     (npm ci, from the committed lock file), Debian's PostgreSQL (started,
#     with a test role and database, as NEXUS_TEST_DATABASE_URL); Debian's
#     Patroni and etcd, running a two-node replicated cluster
#     (scripts/pg-cluster.sh) as NEXUS_TEST_CLUSTER_URL;
#   - npm run build: the guest through jco into web/gen/ (the browser host,
#     which the HTTP suite and the PyKV walk also run against);
#   - cargo test --workspace (with the fuzz corpora replayed); the PyKV walk
#     and schemathesis against nexus serve; short kill -9 soaks (of nexus
#     serve, and of the cluster's primary); web/'s
#     node --test suites and the console and cross-origin pages in headless
#     Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-wasip2
python3 -m pip install -q -r tests/python/requirements.txt
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "Debian's chromium is needed for the browser tests: apt-get install -y chromium (as root)" >&2
        exit 1
    fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
(cd web && npm ci --no-audit --no-fund && npm run build)

# PostgreSQL for the postgres backend's tests: Debian's server, its default
# cluster started, a role and a database for the tests. A URL already in
# NEXUS_TEST_DATABASE_URL is used as it is.
if [ -z "${NEXUS_TEST_DATABASE_URL:-}" ]; then
    if ! command -v pg_lsclusters >/dev/null; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "PostgreSQL is needed for the postgres backend's tests: apt-get install -y postgresql (as root), or set NEXUS_TEST_DATABASE_URL" >&2
            exit 1
        fi
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    fi
    read -r pg_version pg_cluster _ < <(pg_lsclusters --no-header | head -1)
    pg_status() { pg_lsclusters --no-header | awk -v v="$pg_version" -v c="$pg_cluster" '$1 == v && $2 == c { print $3, $4 }'; }
    read -r pg_port status < <(pg_status)
    if [ "$status" != online ]; then
        pg_ctlcluster "$pg_version" "$pg_cluster" start
        read -r pg_port status < <(pg_status)
        [ "$status" = online ] || { echo "PostgreSQL $pg_version/$pg_cluster did not start" >&2; exit 1; }
    fi
    as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sh -c "$1"; fi; }
    as_postgres "psql -q -p $pg_port -tc \"SELECT 1 FROM pg_roles WHERE rolname = 'nexus_test'\" | grep -q 1 \
        || psql -q -p $pg_port -c \"CREATE ROLE nexus_test LOGIN PASSWORD 'nexus_test'\""
    as_postgres "psql -q -p $pg_port -tc \"SELECT 1 FROM pg_database WHERE datname = 'nexus_test'\" | grep -q 1 \
        || createdb -p $pg_port -O nexus_test nexus_test"
    as_postgres "psql -q -p $pg_port -d nexus_test -c 'GRANT CREATE ON SCHEMA public TO nexus_test'"
    export NEXUS_TEST_DATABASE_URL="postgres://nexus_test:nexus_test@127.0.0.1:$pg_port/nexus_test"
    # host/tests/postgres_restart.rs stops and starts the cluster under load.
    export NEXUS_TEST_PG_CTL="pg_ctlcluster $pg_version $pg_cluster"
fi
echo "PostgreSQL for the tests: ${NEXUS_TEST_DATABASE_URL%%:*}://…@${NEXUS_TEST_DATABASE_URL##*@}"

# A replicated cluster for the failover tests (issue 26): Debian's Patroni
# and etcd, two PostgreSQL 15 nodes with synchronous replication on
# loopback ports, in a temporary directory removed at exit. A URL already
# in NEXUS_TEST_CLUSTER_URL (with NEXUS_TEST_CLUSTER_DIR) is used as it is.
if [ -z "${NEXUS_TEST_CLUSTER_URL:-}" ]; then
    if ! command -v patroni >/dev/null || ! command -v etcd >/dev/null; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "Patroni and etcd are needed for the failover tests: apt-get install -y patroni etcd-server (as root), or set NEXUS_TEST_CLUSTER_URL" >&2
            exit 1
        fi
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q patroni etcd-server
    fi
    NEXUS_TEST_CLUSTER_DIR=$(mktemp -d /tmp/nexus-cluster.XXXXXX)
    export NEXUS_TEST_CLUSTER_DIR
    trap 'scripts/pg-cluster.sh stop "$NEXUS_TEST_CLUSTER_DIR"; rm -rf "$NEXUS_TEST_CLUSTER_DIR"' EXIT
    NEXUS_TEST_CLUSTER_URL=$(scripts/pg-cluster.sh start "$NEXUS_TEST_CLUSTER_DIR" 2)
    export NEXUS_TEST_CLUSTER_URL
fi
echo "Replicated cluster for the tests: …@${NEXUS_TEST_CLUSTER_URL##*@}"

cargo test --workspace
python3 -m unittest discover -s tests/python -v
# The kill -9 soak, short: 5 SIGKILLs of nexus serve under writers (the
# binary cargo test built); fails if an acknowledged write is lost.
python3 scripts/soak-kill9.py --kills 5
# The same writers, with idempotency keys, through nexus serve on the
# replicated cluster while its primary is SIGKILLed 3 times: nothing
# acknowledged lost, every increment counted once.
python3 scripts/soak-kill9.py --kill primary --kills 3
(cd web && npm test)
