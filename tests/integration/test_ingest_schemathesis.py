"""A schemathesis run against ingest's OpenAPI document over real HTTP: no 5xx, every response as documented.

With valid credentials (the bureau's key, the operator's token), so the code behind authentication is fuzzed;
``ignored_auth`` repeats each request without them, and with wrong ones, and wants 401. Every operation with
inputs gets at least ``MIN_REQUESTS`` generated requests (positive and negative together), counted and
enforced, so a run cannot pass having sent almost nothing; a fixed seed makes a failure repeatable.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack.broker import TansuBroker
from tests.integration.ingest_app import ADMIN, Ingest, running_ingest, serving

# positive_data_acceptance is left out: generated path ids name nothing stored, so a documented 404 is right.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, ignored_auth, negative_data_rejection]
# A body over the limit is refused with 413 before it is read: that is a rejection too (not in schemathesis'
# default list). 5xx is left out: not_a_server_error is its own check.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
    400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})
MIN_REQUESTS = 200  # per operation with inputs, positive and negative together (issue 17)
EXAMPLES_PER_MODE = 130  # hypothesis stops early when an operation's inputs allow fewer distinct cases
SEED = 20241  # fixed: a failing case comes back on the next run
SECONDS_PER_OPERATION = 60.0  # a bound, not the budget: the request counts are what the test enforces


@pytest.fixture
def live(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[tuple[str, Ingest]]:
    # Small limits so the 413 path is reachable; no rate limit, so generated requests are not all 429.
    # Unknown keys not throttled either: ignored_auth sends wrong credentials after every request and wants 401.
    with running_ingest(database_url, broker.bootstrap, topic_prefix, rate_limit_per_s=0, auth_rate_limit_per_s=0,
                        max_body_bytes=64 * 1024) as ingest, serving(ingest) as url:
        yield url, ingest


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live: tuple[str, Ingest]) -> None:
    url, ingest = live
    bureau = ingest.key()
    # Some well-formed data, so reads and revisions see stored rows.
    ingest.client.post("/v1/observations", headers=bureau, json={
        "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"})
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=CONFIG)
    operations = [r.ok() for r in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/v1/observations", "/v1/observations/batch", "/v1/observations/upload", "/admin/keys",
            "/admin/replay"} <= paths
    # Revoking the key the run authenticates with would turn the rest into 401s.
    fuzzed = [op for op in operations if not op.path.endswith("/revoke")]
    counts = fuzz_all(fuzzed, url, lambda op: ADMIN if op.path.startswith("/admin") else bureau)
    assert len(counts) >= 7


def _fuzz(op: schemathesis.APIOperation, mode: schemathesis.GenerationMode, url: str,
          headers: dict[str, str], known: dict[str, list[str]] | None = None) -> int:
    """Send up to EXAMPLES_PER_MODE generated requests; returns how many were sent.

    ``known`` maps path parameters to ids that exist: every other positive case uses one, so the code past
    the "not found" check is fuzzed too (the stateful part: ids made by earlier calls).
    """
    deadline = time.monotonic() + SECONDS_PER_OPERATION
    sent = 0

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @seed(SEED)
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        if time.monotonic() > deadline:
            return
        # Positive cases only: a negative case made valid would be "invalid data accepted" for nothing.
        if known and case.path_parameters and mode == schemathesis.GenerationMode.POSITIVE and sent % 2 == 0:
            for name, ids in known.items():
                if name in case.path_parameters and ids:
                    case.path_parameters[name] = ids[sent // 2 % len(ids)]
        sent += 1
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Negative mode of an operation without inputs (GET /v1/indicators): there is nothing to break.
        assert mode == schemathesis.GenerationMode.NEGATIVE
    return sent


def has_inputs(op: schemathesis.APIOperation) -> bool:
    """Whether generated requests can differ (parameters or a body), so MIN_REQUESTS applies."""
    raw = op.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def fuzz_all(operations: list[schemathesis.APIOperation], url: str, headers_for, known=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Fuzz every operation both ways; returns the requests sent per operation, having enforced MIN_REQUESTS."""
    counts: dict[str, int] = {}
    for op in operations:
        label = f"{op.method.upper()} {op.path}"
        counts[label] = sum(_fuzz(op, mode, url, headers_for(op), known)
                            for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE))
    short = {k: n for k, n in counts.items() if n < MIN_REQUESTS
             and has_inputs(next(o for o in operations if f"{o.method.upper()} {o.path}" == k))}
    assert not short, f"operations fuzzed with fewer than {MIN_REQUESTS} requests: {short}"
    return counts
