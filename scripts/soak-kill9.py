#!/usr/bin/env python3
"""kill -9 soak: `nexus serve` on the file backend under concurrent writers
of keys, increments and events, killed with SIGKILL at random moments and
restarted, then every acknowledged write is read back. A second namespace
has key-change events on: its keys and its `kv.set` events must match one
for one (a change is never kept without its event, nor an event without
its change, whatever the moment of the kill).

    scripts/soak-kill9.py [--kills N] [--writers W] [--seed S] [--kill nexus|primary]

Prints `kills=N acked=A lost=L` and exits 1 if anything acknowledged is
missing (or a counter holds fewer increments than were acknowledged). Not
a timed test: the moments of the kills are random (seeded), the verdict is
not. Needs the `nexus` binary (`cargo build -p nexus-host`; NEXUS_BIN
overrides).

`--kill primary` kills the database instead: one `nexus serve` on a
replicated cluster (NEXUS_TEST_CLUSTER_URL and NEXUS_TEST_CLUSTER_DIR, as
scripts/pg-cluster.sh starts one), the cluster's primary SIGKILLed N times
(each time after the old one rejoined), writers retrying every write with
its idempotency key until it is acknowledged, so the counter must equal the
acknowledged increments exactly. It also prints each failover window: from
the first refused write after a kill to the next acknowledged one.
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NS = "soak"
# Key-change events on: each of its keys is written once, so its keys and
# its kv.set events must be the same (key, version) pairs.
WATCHED = "soakwatch"


def start(binary, data):
    """A server on a free loopback port; returns (process, base URL)."""
    proc = subprocess.Popen(
        [binary, "--data", data, "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline().strip()
    prefix = "nexus listening on "
    if not line.startswith(prefix):
        proc.kill()
        raise SystemExit(f"nexus serve did not start: {line!r}")
    return proc, line[len(prefix):]


class Ledger:
    """What the server acknowledged, and what was only attempted."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = {}  # key -> value, set with a 200
        self.increments_acked = 0
        self.increments_tried = 0
        self.events = set()  # message ids answered with a 201
        self.refused_at = []  # monotonic times of refused writes
        self.acked_at = []  # monotonic times of acknowledged writes

    def note(self, ok):
        with self.lock:
            (self.acked_at if ok else self.refused_at).append(time.monotonic())

    def acked(self):
        with self.lock:
            return len(self.keys) + self.increments_acked + len(self.events)


def writer(base, ledger, stop, writer_id, rng, keyed=False):
    """Keys are unique across the whole soak (writer ids are too). `keyed`:
    every write carries an idempotency key and is sent again until it is
    acknowledged (or the soak stops), so it applies exactly once."""
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        kind = rng.choice(("set", "incr", "emit", "watched"))
        headers = {"Idempotency-Key": f"{writer_id}:{n}"} if keyed else {}
        post = session.post
        if keyed:
            post = lambda url, **kw: until_acknowledged(session, ledger, stop, url, headers, **kw)
        try:
            if kind in ("set", "watched"):
                ns = NS if kind == "set" else WATCHED
                key, value = f"{writer_id}:{n}", f"v{n}"
                r = post(f"{base}/set?ns={ns}", json={"key": key, "value": value}, timeout=5)
                if r.status_code == 200:
                    with ledger.lock:
                        ledger.keys[(ns, key)] = value
            elif kind == "incr":
                with ledger.lock:
                    ledger.increments_tried += 1
                r = post(f"{base}/namespaces/{NS}/increment", json={"key": "counter"}, timeout=5)
                if r.status_code == 200:
                    with ledger.lock:
                        ledger.increments_acked += 1
            else:
                r = post(f"{base}/namespaces/{NS}/events", json={"event_type": "soak.tick", "payload": {"n": n}}, timeout=5)
                if r.status_code == 201:
                    with ledger.lock:
                        ledger.events.add(r.json()["message_id"])
        except requests.RequestException:
            # The server was killed under this request: not acknowledged.
            time.sleep(0.01)


def until_acknowledged(session, ledger, stop, url, headers, **kw):
    """Sends until a 2xx (or the soak stops), with the same idempotency key."""
    while True:
        try:
            r = session.post(url, headers=headers, **kw)
        except requests.RequestException:
            r = None
        ok = r is not None and r.status_code < 300
        ledger.note(ok)
        if ok or stop.is_set() or (r is not None and r.status_code != 503):
            return r if r is not None else requests.Response()
        time.sleep(0.02)


def failover_window(ledger, killed_at):
    """From the first refused write after `killed_at` to the next
    acknowledged one (0 when no write was refused)."""
    with ledger.lock:
        refused = [t for t in ledger.refused_at if t >= killed_at]
        if not refused:
            return 0.0
        first = min(refused)
        later = [t for t in ledger.acked_at if t > first]
        return (min(later) - first) if later else float("inf")


def cluster(command):
    """scripts/pg-cluster.sh COMMAND on the test cluster; its output."""
    script = ROOT / "scripts" / "pg-cluster.sh"
    out = subprocess.run([str(script), command, os.environ["NEXUS_TEST_CLUSTER_DIR"]], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"pg-cluster.sh {command}: {out.stderr}")
    return out.stdout.strip()


def logged(base, ns, params=None):
    """Every event of the namespace's log."""
    events, after = [], ""
    while True:
        query = {"limit": 1000, "after": after, **(params or {})}
        r = requests.get(f"{base}/namespaces/{ns}/events/log", params=query, timeout=30)
        r.raise_for_status()
        page = r.json()
        events.extend(page["events"])
        if not page["next"]:
            return events
        after = page["next"]


def stored_versions(base, ns):
    """(key, version) of every live key of the namespace."""
    pairs, cursor = set(), None
    while True:
        query = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        r = requests.get(f"{base}/namespaces/{ns}/entries", params=query, timeout=30)
        r.raise_for_status()
        page = r.json()
        pairs.update((k["key"], k["version"]) for k in page["keys"])
        cursor = page.get("next_cursor")
        if not cursor:
            return pairs


def unmatched_key_events(base):
    """Changes of WATCHED without their kv.set event, and events without
    their change."""
    told = {(e["payload"]["key"], e["payload"]["version"]) for e in logged(base, WATCHED, {"type": "kv.set"})}
    stored = stored_versions(base, WATCHED)
    return [f"{WATCHED} key {k} v{v} has no kv.set event" for k, v in sorted(stored - told)] + [
        f"{WATCHED} kv.set event of {k} v{v} without the change" for k, v in sorted(told - stored)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill", choices=("nexus", "primary"), default="nexus")
    args = parser.parse_args()
    binary = os.environ.get("NEXUS_BIN", str(ROOT / "target" / "debug" / "nexus"))
    if not Path(binary).exists():
        raise SystemExit(f"the nexus binary is not built: {binary} (cargo build -p nexus-host)")
    rng = random.Random(args.seed)
    ledger = Ledger()
    if args.kill == "primary":
        return soak_primary(binary, args, rng, ledger)
    with tempfile.TemporaryDirectory(prefix="nexus-soak-") as data:
        for kill in range(args.kills):
            proc, base = start(binary, data)
            if kill == 0:
                setting = {"enabled": True, "include_values": True}
                requests.put(f"{base}/namespaces/{WATCHED}/key-events", json=setting, timeout=30).raise_for_status()
            stop = threading.Event()
            threads = [
                threading.Thread(target=writer, args=(base, ledger, stop, f"k{kill}w{w}", random.Random(rng.random())))
                for w in range(args.writers)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, 1.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads:
                t.join()

        proc, base = start(binary, data)
        try:
            lost = verify(base, ledger)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    return verdict(args.kills, ledger, lost)


def soak_primary(binary, args, rng, ledger):
    """`--kill primary`: see the module's documentation."""
    url = os.environ.get("NEXUS_TEST_CLUSTER_URL")
    if not url or not os.environ.get("NEXUS_TEST_CLUSTER_DIR"):
        raise SystemExit("--kill primary needs NEXUS_TEST_CLUSTER_URL and NEXUS_TEST_CLUSTER_DIR (scripts/pg-cluster.sh)")
    table = f"soak_{os.getpid()}_{int(time.time())}"
    windows = []
    with tempfile.TemporaryDirectory(prefix="nexus-soak-") as data:
        proc = subprocess.Popen(
            [binary, "--data", data, "serve", "--addr", "127.0.0.1:0", "--database-url", url, "--database-table", table],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = proc.stdout.readline().strip()
        if not line.startswith("nexus listening on "):
            proc.kill()
            raise SystemExit(f"nexus serve did not start: {line!r}")
        base = line[len("nexus listening on "):]
        try:
            setting = {"enabled": True, "include_values": True}
            requests.put(f"{base}/namespaces/{WATCHED}/key-events", json=setting, timeout=30).raise_for_status()
            stop = threading.Event()
            threads = [
                threading.Thread(target=writer, args=(base, ledger, stop, f"w{w}", random.Random(rng.random()), True))
                for w in range(args.writers)
            ]
            for t in threads:
                t.start()
            kills = []
            for _ in range(args.kills):
                time.sleep(rng.uniform(0.5, 1.5))
                kills.append((time.monotonic(), cluster("kill-primary")))
                cluster("wait")  # a new primary, and the old one back as a replica
            time.sleep(1.0)
            stop.set()
            for t in threads:
                t.join()
            for i, (killed_at, node) in enumerate(kills):
                windows.append(failover_window(ledger, killed_at))
                print(f"kill {i + 1}: node {node}, failover window {windows[-1]:.2f} s")
            lost = verify(base, ledger, exact=True)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    if windows:
        ordered = sorted(windows)
        print(f"failover windows: median {ordered[len(ordered) // 2]:.2f} s, max {ordered[-1]:.2f} s over {len(windows)} kills")
    return verdict(args.kills, ledger, lost)


def verify(base, ledger, exact=False):
    """What is missing of what was acknowledged. `exact`: every increment
    tried was sent until acknowledged with its key, so the counter must
    equal the acknowledged ones."""
    lost = []
    for (ns, key), value in ledger.keys.items():
        r = requests.get(f"{base}/get/{key}", params={"ns": ns}, timeout=30)
        if r.status_code != 200 or r.json()["value"] != value:
            lost.append(f"key {key}: {r.status_code} {r.text}")
    r = requests.get(f"{base}/get/counter", params={"ns": NS}, timeout=30)
    counter = int(r.json()["value"]) if r.status_code == 200 else 0
    if counter < ledger.increments_acked:
        lost.append(f"counter {counter} < {ledger.increments_acked} acknowledged increments")
    if counter > ledger.increments_tried:
        lost.append(f"counter {counter} > {ledger.increments_tried} increments tried")
    missing = ledger.events - {e["message_id"] for e in logged(base, NS)}
    lost.extend(f"event {m}" for m in sorted(missing))
    lost.extend(unmatched_key_events(base))
    if exact and counter != ledger.increments_acked:
        lost.append(f"counter {counter} != {ledger.increments_acked} acknowledged increments, each sent with its key")
    return lost


def verdict(kills, ledger, lost):
    acked = ledger.acked()
    print(f"kills={kills} acked={acked} lost={len(lost)}")
    for line in lost[:20]:
        print(f"  lost: {line}")
    if acked == 0:
        print("nothing was acknowledged: the soak tested nothing", file=sys.stderr)
        return 1
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
