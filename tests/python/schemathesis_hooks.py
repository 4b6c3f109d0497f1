"""Hooks for the schemathesis run of test_openapi.py.

An Idempotency-Key names one request in its namespace: hypothesis draws
few distinct keys ("0", "000…"), so generated requests would mostly reuse
a key an earlier, different request recorded and be refused with a 422
(state, not schema), and a recorded "created" would be replayed after the
resource was deleted. A client sends a fresh key per request, as this
hook makes every valid key just before the request goes out (in every
phase: coverage's boundary keys are not drawn through the generation
hooks); an invalid one is left as drawn, so the negative tests still send
it. Replays themselves are tested by the
Rust suites (guest/store/tests/idempotency.rs, the HTTP suite).
"""

import itertools
import re

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")
FRESH = itertools.count()


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        headers["Idempotency-Key"] = f"request-{next(FRESH)}"
