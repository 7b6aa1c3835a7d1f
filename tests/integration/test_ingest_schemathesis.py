"""A schemathesis run against ingest's OpenAPI document over real HTTP: no 5xx, every response as documented.

Bounded: a few dozen generated requests per operation, positive and negative, and a time limit per
operation, so the run stays within seconds on a 2-core machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devstack.broker import TansuBroker
from tests.integration.ingest_app import ADMIN, Ingest, running_ingest, serving

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES_PER_OPERATION = 25
SECONDS_PER_OPERATION = 20.0


@pytest.fixture
def live(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[tuple[str, Ingest]]:
    # Small limits so the 413 path is reachable; no rate limit, so generated requests are not all 429.
    with running_ingest(database_url, broker.bootstrap, topic_prefix, rate_limit_per_s=0,
                        max_body_bytes=64 * 1024) as ingest, serving(ingest) as url:
        yield url, ingest


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live: tuple[str, Ingest]) -> None:
    url, ingest = live
    bureau = ingest.key()
    # Some well-formed data, so reads and revisions see stored rows.
    ingest.client.post("/v1/observations", headers=bureau, json={
        "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"})
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    paths = {op.path for op in operations}
    assert {"/v1/observations", "/v1/observations/batch", "/v1/observations/upload", "/admin/keys",
            "/admin/replay"} <= paths
    tested = 0
    for op in operations:
        if op.path.endswith("/revoke"):
            continue  # revoking the key the run authenticates with would turn the rest into 401s
        headers = ADMIN if op.path.startswith("/admin") else bureau
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _fuzz(op, mode, url, headers)
            tested += 1
    assert tested >= 14


def _fuzz(op: schemathesis.APIOperation, mode: schemathesis.GenerationMode, url: str,
          headers: dict[str, str]) -> None:
    deadline = time.monotonic() + SECONDS_PER_OPERATION

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        if time.monotonic() > deadline:
            return
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Negative mode of an operation without inputs (GET /v1/indicators): there is nothing to break.
        assert mode == schemathesis.GenerationMode.NEGATIVE
