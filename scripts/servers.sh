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

# write_set_script FILE: a wrk script of SETs of $VALUE to /set?ns=bench,
# spread over 100,000 keys like redis-benchmark -r 100000 (writers of one
# hot key serialize; see docs/benchmarks.md). Each wrk thread seeds its own
# generator: unseeded, every thread draws the same keys in the same order,
# so two threads write each key at nearly the same moment.
write_set_script() {
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function()
  math.randomseed(seed)
end
request = function()
  local body = '{"key":"bench:' .. math.random(100000) .. '","value":"$VALUE"}'
  return wrk.format(nil, "/set?ns=bench", nil, body)
end
LUA
}
