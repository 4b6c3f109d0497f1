#!/usr/bin/env python3
"""kill -9 soak: `nexus serve` on the file backend under concurrent writers
of keys, increments and events, killed with SIGKILL at random moments and
restarted, then every acknowledged write is read back. A second namespace
has key-change events on: its keys and its `kv.set` events must match one
for one (a change is never kept without its event, nor an event without
its change, whatever the moment of the kill).

    scripts/soak-kill9.py [--kills N] [--writers W] [--seed S]

Prints `kills=N acked=A lost=L` and exits 1 if anything acknowledged is
missing (or a counter holds fewer increments than were acknowledged). Not
a timed test: the moments of the kills are random (seeded), the verdict is
not. Needs the `nexus` binary (`cargo build -p nexus-host`; NEXUS_BIN
overrides).
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

    def acked(self):
        with self.lock:
            return len(self.keys) + self.increments_acked + len(self.events)


def writer(base, ledger, stop, writer_id, rng):
    """Keys are unique across the whole soak (writer ids are too)."""
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        kind = rng.choice(("set", "incr", "emit", "watched"))
        try:
            if kind in ("set", "watched"):
                ns = NS if kind == "set" else WATCHED
                key, value = f"{writer_id}:{n}", f"v{n}"
                r = session.post(f"{base}/set?ns={ns}", json={"key": key, "value": value}, timeout=5)
                if r.status_code == 200:
                    with ledger.lock:
                        ledger.keys[(ns, key)] = value
            elif kind == "incr":
                with ledger.lock:
                    ledger.increments_tried += 1
                r = session.post(f"{base}/namespaces/{NS}/increment", json={"key": "counter"}, timeout=5)
                if r.status_code == 200:
                    with ledger.lock:
                        ledger.increments_acked += 1
            else:
                r = session.post(f"{base}/namespaces/{NS}/events", json={"event_type": "soak.tick", "payload": {"n": n}}, timeout=5)
                if r.status_code == 201:
                    with ledger.lock:
                        ledger.events.add(r.json()["message_id"])
        except requests.RequestException:
            # The server was killed under this request: not acknowledged.
            time.sleep(0.01)


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
    args = parser.parse_args()
    binary = os.environ.get("NEXUS_BIN", str(ROOT / "target" / "debug" / "nexus"))
    if not Path(binary).exists():
        raise SystemExit(f"the nexus binary is not built: {binary} (cargo build -p nexus-host)")
    rng = random.Random(args.seed)
    ledger = Ledger()
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
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
    acked = ledger.acked()
    print(f"kills={args.kills} acked={acked} lost={len(lost)}")
    for line in lost[:20]:
        print(f"  lost: {line}")
    if acked == 0:
        print("nothing was acknowledged: the soak tested nothing", file=sys.stderr)
        return 1
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
