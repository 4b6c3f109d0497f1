"""A PyKV user's walk through nexus's key-value REST API, with `requests`.

The same walk runs against every host: `nexus serve --memory`, `nexus
serve` on PostgreSQL ($NEXUS_TEST_DATABASE_URL, a fresh table; failing
under CI without it), the Spin edge component in its test harness (`nexus-edge-harness`, over a
SQLite file), and the browser host (web/: the guest through jco, storage in
JavaScript) behind node:http. Each is started on a free port with a manual clock (so TTL
expiry needs no sleeping), then the API is used exactly as PyKV's clients
do: namespaces isolate `user:123`, TTL expires, stats count hits and misses
per namespace, clearing one namespace leaves the others.

Run: python3 -m unittest discover -s tests/python -v
(the binaries come from $NEXUS_BIN / $NEXUS_EDGE_HARNESS_BIN, else
target/debug/ under $CARGO_TARGET_DIR or the workspace, which
`cargo test --workspace` builds; the browser host needs `npm ci && npm run
build` in web/, which the README's test command runs first).
"""

import os
import pathlib
import subprocess
import tempfile
import unittest

import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]


T0_MS = "1700000000000"


def binary(name, env_var):
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    path = os.environ.get(env_var) or str(ROOT / target / "debug" / name)
    if not pathlib.Path(path).exists():
        raise RuntimeError(f"{path} does not exist: run `cargo test --workspace` first")
    return path


class PyKVWalk:
    """The walk; a subclass names the server with `command(data_dir)`."""

    @classmethod
    def setUpClass(cls):
        cls.data = tempfile.TemporaryDirectory()
        argv, env = cls.command(pathlib.Path(cls.data.name))
        cls.server = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=dict(os.environ, **env))
        line = cls.server.stdout.readline()
        if "listening on" not in line:
            cls.server.kill()
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        cls.base = line.strip().split("listening on ")[1]
        cls.http = requests.Session()

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.data.cleanup()

    def url(self, path):
        return self.base + path

    def advance_clock(self, ms):
        r = self.http.post(self.url("/_test/clock"), json={"advance_ms": ms})
        self.assertEqual(r.status_code, 200, r.text)

    def set(self, key, value, ns=None, ttl=None):
        body = {"key": key, "value": value}
        if ttl is not None:
            body["ttl"] = ttl
        params = {"ns": ns} if ns else {}
        return self.http.post(self.url("/set"), params=params, json=body)

    def get(self, key, ns=None):
        params = {"ns": ns} if ns else {}
        return self.http.get(self.url(f"/get/{requests.utils.quote(key, safe='')}"), params=params)

    def test_health(self):
        r = self.http.get(self.url("/health"))
        self.assertEqual(r.status_code, 200)
        self.assertEqual(r.json()["status"], "healthy")
        self.assertIsInstance(r.json()["store_size"], int)

    def test_namespaces_isolate_the_same_key(self):
        self.assertEqual(
            self.set("user:123", "alice", ns="iso-a").json(),
            {"status": "success", "key": "user:123", "namespace": "iso-a"},
        )
        self.set("user:123", "bob", ns="iso-b")
        self.assertEqual(
            self.get("user:123", ns="iso-a").json(),
            {"key": "user:123", "value": "alice", "namespace": "iso-a"},
        )
        self.assertEqual(self.get("user:123", ns="iso-b").json()["value"], "bob")
        missing = self.get("user:123", ns="iso-c")
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(missing.json(), {"detail": "Key not found"})
        # No namespace means `default`; the namespace may come in the body too.
        self.http.post(self.url("/set"), json={"key": "user:123", "value": "carol", "namespace": "iso-d"})
        self.assertEqual(self.get("user:123", ns="iso-d").json()["value"], "carol")
        self.assertEqual(self.get("user:123").status_code, 404)
        names = self.http.get(self.url("/namespaces")).json()
        self.assertEqual(names["namespaces"], sorted(names["namespaces"]))
        self.assertEqual(names["count"], len(names["namespaces"]))
        self.assertTrue({"iso-a", "iso-b", "iso-d"} <= set(names["namespaces"]))

    def test_ttl_expires(self):
        self.assertEqual(self.set("session:1", "token", ns="ttl", ttl=2).status_code, 200)
        self.assertEqual(self.get("session:1", ns="ttl").status_code, 200)
        self.advance_clock(2_000)
        r = self.get("session:1", ns="ttl")
        self.assertEqual(r.status_code, 404)
        self.assertEqual(r.json(), {"detail": "Key not found"})
        self.assertEqual(self.http.get(self.url("/namespaces/ttl/keys")).json(), {"namespace": "ttl", "total_keys": 0})

    def test_stats_count_hits_and_misses_per_namespace(self):
        self.set("k", "v", ns="stats-a")
        self.set("k", "v", ns="stats-b")
        for _ in range(3):
            self.get("k", ns="stats-a")
        self.get("absent", ns="stats-a")
        self.get("absent", ns="stats-b")
        one = self.http.get(self.url("/stats"), params={"ns": "stats-a"}).json()
        self.assertEqual(one["namespace"], "stats-a")
        self.assertEqual((one["cache_hits"], one["cache_misses"], one["total_keys"]), (3, 1, 1))
        every = self.http.get(self.url("/stats")).json()
        for field in ("total_keys", "cache_hits", "cache_misses", "evictions", "uptime_seconds", "namespaces"):
            self.assertIn(field, every)
        self.assertEqual(every["namespaces"]["stats-b"], {"cache_hits": 0, "cache_misses": 1, "total_keys": 1})

    def test_clearing_a_namespace_leaves_the_others(self):
        for i in range(3):
            self.set(f"item:{i}", "x", ns="clear-a")
        self.set("item:0", "y", ns="clear-b")
        r = self.http.delete(self.url("/namespaces/clear-a"))
        self.assertEqual(r.json(), {"status": "cleared", "namespace": "clear-a", "keys_deleted": 3})
        self.assertEqual(self.http.get(self.url("/namespaces/clear-a/keys")).json()["total_keys"], 0)
        self.assertEqual(self.get("item:0", ns="clear-b").json()["value"], "y")

    def test_delete_and_keys_with_colons_and_slashes(self):
        self.set("a:b/c d", "v", ns="del")
        self.assertEqual(self.get("a:b/c d", ns="del").json()["key"], "a:b/c d")
        r = self.http.delete(self.url("/delete/" + requests.utils.quote("a:b/c d", safe="")), params={"ns": "del"})
        self.assertEqual(r.json(), {"status": "deleted", "key": "a:b/c d", "namespace": "del"})
        again = self.http.delete(self.url("/delete/nope"), params={"ns": "del"})
        self.assertEqual((again.status_code, again.json()), (404, {"detail": "Key not found"}))

    def test_bad_input_is_a_4xx_with_a_reason_and_writes_nothing(self):
        before = self.http.get(self.url("/namespaces")).json()
        cases = [
            self.set("k", "v", ns="bad name!"),
            self.http.post(self.url("/set"), json={"value": "no key"}),
            self.http.post(self.url("/set"), data="{not json", headers={"content-type": "application/json"}),
            self.set("k", "v", ns="bad-ttl", ttl=0),
            self.set("k", "v", ns="bad-ttl", ttl=-5),
        ]
        for r in cases:
            self.assertTrue(400 <= r.status_code < 500, (r.status_code, r.text))
            self.assertIn("detail", r.json())
        self.assertEqual(self.http.get(self.url("/namespaces")).json(), before)


class NexusServe(PyKVWalk, unittest.TestCase):
    @staticmethod
    def command(_data):
        argv = [binary("nexus", "NEXUS_BIN"), "--memory", "serve", "--addr", "127.0.0.1:0"]
        return argv, {"NEXUS_MANUAL_CLOCK_MS": T0_MS}


class NexusServePostgres(PyKVWalk, unittest.TestCase):
    TABLE = "pykv_walk"

    @classmethod
    def command(cls, _data):
        url = os.environ.get("NEXUS_TEST_DATABASE_URL")
        if not url:
            if os.environ.get("CI"):
                raise RuntimeError("CI is set but NEXUS_TEST_DATABASE_URL is not (scripts/test.sh sets it)")
            raise unittest.SkipTest("NOT RUN: needs NEXUS_TEST_DATABASE_URL")
        # A fresh table: the walk starts from an empty store.
        subprocess.run(["psql", url, "-qc", f"DROP TABLE IF EXISTS {cls.TABLE}"], check=True)
        argv = [binary("nexus", "NEXUS_BIN"), "serve", "--addr", "127.0.0.1:0",
                "--database-url", url, "--database-table", cls.TABLE]
        return argv, {"NEXUS_MANUAL_CLOCK_MS": T0_MS}


class EdgeHarness(PyKVWalk, unittest.TestCase):
    @staticmethod
    def command(data):
        argv = [
            binary("nexus-edge-harness", "NEXUS_EDGE_HARNESS_BIN"),
            "--addr", "127.0.0.1:0",
            "--database", str(data / "sqlite_db.db"),
            "--manual-clock-ms", T0_MS,
            # PyKV's statistics are exact; the edge samples its read
            # counts unless told otherwise (edge/README.md).
            "--env", "NEXUS_READ_COUNT_SAMPLE=1",
        ]
        return argv, {}


class WebHost(PyKVWalk, unittest.TestCase):
    @staticmethod
    def command(_data):
        server = ROOT / "web" / "test" / "api-server.js"
        if not (ROOT / "web" / "gen" / "nexus_component.js").exists():
            raise RuntimeError("the browser host is not built: run `npm ci && npm run build` in web/")
        argv = [os.environ.get("NEXUS_NODE", "node"), str(server), "--port", "0", "--manual-clock-ms", T0_MS]
        return argv, {}


if __name__ == "__main__":
    unittest.main()
