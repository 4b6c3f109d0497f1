#!/usr/bin/env bash
# A replicated PostgreSQL cluster on loopback, for the failover tests and
# benchmarks: one etcd member and N PostgreSQL 15 nodes managed by Patroni
# (Debian's patroni and etcd-server), synchronous replication, everything
# under DIR. As root, the daemons run as the postgres user (PostgreSQL
# refuses root) through setpriv, which execs, so a recorded PID is the
# daemon's own.
#
#   scripts/pg-cluster.sh start DIR [NODES]  start (2 nodes by default), wait
#                                            until a leader and its
#                                            synchronous standby are up, and
#                                            print the multi-host URL
#   scripts/pg-cluster.sh url DIR            the URL again
#   scripts/pg-cluster.sh leader DIR         the leader's node number (1..N)
#   scripts/pg-cluster.sh wait DIR           wait for a leader and every node
#                                            streaming (a rejoin after a kill)
#   scripts/pg-cluster.sh kill-primary DIR   SIGKILL the leader's postmaster, wait
#                                            until a primary runs again (another
#                                            node, or this one restarted), print
#                                            the killed node's number
#   scripts/pg-cluster.sh kill-patroni DIR   SIGKILL the leader's Patroni only: its
#                                            PostgreSQL runs on, orphaned (no
#                                            watchdog here); print its number
#   scripts/pg-cluster.sh stop-node DIR I    stop node I (Patroni, then PostgreSQL)
#   scripts/pg-cluster.sh start-node DIR I   start node I again
#   scripts/pg-cluster.sh stop DIR           stop everything
#
# Ports: NEXUS_CLUSTER_PORT_BASE (default 15500): etcd on BASE and BASE+1,
# node I's PostgreSQL on BASE+10+I and its Patroni API on BASE+20+I.
# Failover settings (ttl 10, loop_wait 1, retry_timeout 4,
# master_start_timeout 0, which Patroni 3.1 renamed primary_start_timeout:
# both are set) follow what was measured for issue 26: a killed
# postmaster fails over in about 2 s, a lost node in about the TTL.
set -euo pipefail

cmd=${1:?usage: pg-cluster.sh start|url|leader|wait|kill-primary|kill-patroni|stop-node|start-node|stop DIR}
dir=${2:?the cluster directory}
base=${NEXUS_CLUSTER_PORT_BASE:-15500}
bin_dir=${NEXUS_CLUSTER_PG_BIN:-/usr/lib/postgresql/15/bin}
password=nexus-cluster

# Starts a daemon in the background, as the postgres user when root, and
# records its PID in $1 (the subshell execs, and so does setpriv).
spawn() {
    local pidfile=$1 log=$2
    shift 2
    if [ "$(id -u)" -eq 0 ]; then
        (exec setpriv --reuid=postgres --regid=postgres --init-groups "$@") >>"$log" 2>&1 &
    else
        (exec "$@") >>"$log" 2>&1 &
    fi
    echo $! >"$pidfile"
}

nodes() { cat "$dir/nodes"; }
pg_port() { echo $((base + 10 + $1)); }
api_port() { echo $((base + 20 + $1)); }

url() {
    local hosts="" i
    for i in $(seq 1 "$(nodes)"); do
        hosts="${hosts:+$hosts,}127.0.0.1:$(pg_port "$i")"
    done
    echo "postgres://postgres:$password@$hosts/postgres?target_session_attrs=read-write"
}

# The leader's node number as the DCS has it (any node's /cluster; the
# leader's own /primary answers 200 a moment too long after a crash), or
# nothing while there is none running.
leader() {
    local i
    for i in $(seq 1 "$(nodes)"); do
        curl -s --max-time 1 "http://127.0.0.1:$(api_port "$i")/cluster" 2>/dev/null | python3 -c '
import json, sys
leaders = [m["name"].removeprefix("node") for m in json.load(sys.stdin)["members"]
           if m["role"] == "leader" and m["state"] == "running"]
print(*leaders[:1])
sys.exit(0 if leaders else 1)
' 2>/dev/null && return
    done
    # None now (a failover under way): nothing printed, and no failure.
    return 0
}

# Every node running, the leader's synchronous standby named, and each
# replica reporting its lag (it streams, rather than still cloning).
all_streaming() {
    local l
    l=$(leader)
    [ -n "$l" ] || return 1
    curl -s --max-time 1 "http://127.0.0.1:$(api_port "$l")/cluster" | python3 -c '
import json, sys
members = json.load(sys.stdin)["members"]
replicas = [m for m in members if m["role"] != "leader"]
ok = (len(members) == int(sys.argv[1])
      and all(m["state"] in ("running", "streaming") for m in members)
      and any(m["role"] == "sync_standby" for m in replicas)
      and all(isinstance(m.get("lag"), int) for m in replicas))
sys.exit(0 if ok else 1)' "$(nodes)" 2>/dev/null
}

wait_for() {
    local what=$1 seconds=$2 i
    for i in $(seq 1 $((seconds * 10))); do
        if "$what"; then return 0; fi
        sleep 0.1
    done
    echo "pg-cluster: no $what within ${seconds}s; logs in $dir/*.log" >&2
    tail -n 20 "$dir"/*.log >&2 || true
    return 1
}

has_leader() { [ -n "$(leader)" ]; }

start_etcd() {
    spawn "$dir/etcd.pid" "$dir/etcd.log" etcd --name e1 --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$base" --advertise-client-urls "http://127.0.0.1:$base" \
        --listen-peer-urls "http://127.0.0.1:$((base + 1))" \
        --initial-advertise-peer-urls "http://127.0.0.1:$((base + 1))" \
        --initial-cluster "e1=http://127.0.0.1:$((base + 1))"
}

write_config() {
    local i=$1
    cat >"$dir/node$i.yml" <<EOF
scope: nexus
name: node$i
restapi:
  listen: 127.0.0.1:$(api_port "$i")
  connect_address: 127.0.0.1:$(api_port "$i")
etcd3:
  hosts: 127.0.0.1:$base
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    master_start_timeout: 0
    primary_start_timeout: 0
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: false
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_log_hints: "on"
        max_connections: 200
        max_wal_senders: 10
        max_replication_slots: 10
  initdb:
    - encoding: UTF8
    - data-checksums
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 md5
    - host all all 127.0.0.1/32 md5
postgresql:
  listen: 127.0.0.1:$(pg_port "$i")
  connect_address: 127.0.0.1:$(pg_port "$i")
  data_dir: $dir/node$i/data
  bin_dir: $bin_dir
  pgpass: $dir/node$i/pgpass
  authentication:
    superuser: {username: postgres, password: $password}
    replication: {username: replicator, password: $password}
    rewind: {username: postgres, password: $password}
  parameters:
    unix_socket_directories: $dir/node$i
  basebackup:
    - checkpoint: fast
EOF
}

start_node() {
    local i=$1
    mkdir -p "$dir/node$i"
    chmod 700 "$dir/node$i"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir/node$i"
    # Debian's Patroni needs Debian's python3 (not one first on PATH).
    spawn "$dir/node$i.pid" "$dir/node$i.log" /usr/bin/python3 /usr/bin/patroni "$dir/node$i.yml"
}

postmaster_pid() { head -1 "$dir/node$1/data/postmaster.pid" 2>/dev/null || true; }

stop_node() {
    local i=$1 pid
    pid=$(cat "$dir/node$i.pid" 2>/dev/null || true)
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    pid=$(postmaster_pid "$i")
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    # The postmaster's children follow it; wait until they are gone.
    for _ in $(seq 1 100); do
        pgrep -f "$dir/node$i/data" >/dev/null 2>&1 || break
        sleep 0.1
    done
}

case "$cmd" in
    start)
        count=${3:-2}
        command -v patroni >/dev/null && command -v etcd >/dev/null || {
            echo "pg-cluster: needs Debian's patroni and etcd-server (apt-get install -y patroni etcd-server)" >&2
            exit 1
        }
        mkdir -p "$dir"
        [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$dir"
        echo "$count" >"$dir/nodes"
        start_etcd
        for i in $(seq 1 "$count"); do
            write_config "$i"
            start_node "$i"
            # The first node bootstraps; the others clone it once it leads.
            [ "$i" -ne 1 ] || wait_for has_leader 60
        done
        wait_for all_streaming 120
        url
        ;;
    url) url ;;
    leader) leader ;;
    wait) wait_for has_leader 60 && wait_for all_streaming 120 ;;
    kill-primary)
        i=$(leader)
        [ -n "$i" ] || { echo "pg-cluster: no leader to kill" >&2; exit 1; }
        killed_at=$(date +%s.%N)
        kill -9 "$(postmaster_pid "$i")"
        # Until a primary runs again: another node promoted, or (Patroni's
        # choice when its standby is not ready) this one restarted: a
        # primary whose PostgreSQL started after the kill.
        recovered() {
            local l
            l=$(leader)
            [ -n "$l" ] && curl -s --max-time 1 "http://127.0.0.1:$(api_port "$l")/patroni" | python3 -c '
import datetime, json, sys
state = json.load(sys.stdin)
started = datetime.datetime.fromisoformat(state["postmaster_start_time"]).timestamp()
primary = state["state"] == "running" and state["role"] in ("master", "primary")
sys.exit(0 if primary and (sys.argv[1] != sys.argv[2] or started > float(sys.argv[3])) else 1)
' "$l" "$i" "$killed_at" 2>/dev/null
        }
        wait_for recovered 60
        echo "$i"
        ;;
    kill-patroni)
        i=$(leader)
        [ -n "$i" ] || { echo "pg-cluster: no leader" >&2; exit 1; }
        kill -9 "$(cat "$dir/node$i.pid")"
        echo "$i"
        ;;
    stop-node) stop_node "${3:?node number}" ;;
    start-node) start_node "${3:?node number}" ;;
    stop)
        if [ -f "$dir/nodes" ]; then
            for i in $(seq 1 "$(nodes)"); do stop_node "$i"; done
        fi
        pid=$(cat "$dir/etcd.pid" 2>/dev/null || true)
        [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
        ;;
    *) echo "pg-cluster: unknown command $cmd" >&2; exit 2 ;;
esac
