# Sourced by the benchmark scripts: a scratch directory and the background
# servers they start, all removed on exit, and a wait for a port.

WORK=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# wait_for_port PORT: until something listens on 127.0.0.1:PORT (10 s at most).
wait_for_port() {
    for _ in $(seq 100); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listening on port $1" >&2
    exit 1
}
