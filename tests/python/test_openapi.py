"""The REST API held to its OpenAPI document by schemathesis.

`nexus serve` (file backend, a temporary data directory, a free loopback
port) with a store-admin token made by `nexus tokens create`; then
`st run` with every check (`[checks] enabled = true` in the config: on
the command line, `--checks all` would override the per-operation
switches) over every phase (examples, coverage, fuzzing, and
stateful through the document's links), configured by schemathesis.toml
beside this file: a fixed seed, a bounded number of examples, and each
relaxed check named with its one operation and its reason. Zero failures
is the only pass.

Run: python3 -m unittest tests.python.test_openapi (or with the whole
discover line of the README's test command); schemathesis comes from
tests/python/requirements.txt. NEXUS_BIN overrides target/debug/nexus.
"""

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

from test_pykv_client import binary

HERE = pathlib.Path(__file__).resolve().parent


def schemathesis():
    """The `st` script installed beside this Python, else on PATH."""
    beside = pathlib.Path(sys.executable).with_name("st")
    found = str(beside) if beside.exists() else shutil.which("st")
    if not found:
        raise RuntimeError("schemathesis is not installed: pip install -r tests/python/requirements.txt")
    return found


class SchemathesisAgainstServe(unittest.TestCase):
    def test_the_api_matches_its_document(self):
        nexus = binary("nexus", "NEXUS_BIN")
        with tempfile.TemporaryDirectory() as data:
            created = subprocess.run(
                [nexus, "--data", data, "tokens", "create", "--ns", "*", "--scope", "admin", "--name", "root"],
                capture_output=True,
                text=True,
                check=True,
            )
            secret = next(w for w in created.stdout.split() if w.startswith("nxt_"))
            server = subprocess.Popen(
                [nexus, "--data", data, "serve", "--addr", "127.0.0.1:0"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            try:
                line = server.stdout.readline()
                self.assertIn("listening on", line)
                base = line.strip().split("listening on ")[1]
                run = subprocess.run(
                    [
                        schemathesis(),
                        "--config-file",
                        str(HERE / "schemathesis.toml"),
                        "run",
                        f"{base}/openapi.json",
                        "--url",
                        base,
                        "-H",
                        f"Authorization: Bearer {secret}",
                    ],
                    capture_output=True,
                    text=True,
                    cwd=data,
                    env={
                        **os.environ,
                        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
                        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
                    },
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
        # The summary (examples, links covered, failures) goes to the log.
        print(run.stdout[-6000:])
        self.assertEqual(run.returncode, 0, run.stdout[-20000:] + run.stderr[-4000:])


if __name__ == "__main__":
    unittest.main()
