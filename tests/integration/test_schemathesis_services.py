"""Schemathesis against the evaluator's and the alerts service's OpenAPI documents over real HTTP.

No 5xx, no response outside its documented schema, invalid data refused, and authentication not ignored, for
every operation, with valid credentials (a department's token for status reports; an alerts token with every
scope), so the code behind authentication is fuzzed, at least MIN_REQUESTS requests per operation with inputs
(enforced), half of those with path ids that exist (real targets, a stored silence). Same rules as ingest's.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from devstack.broker import TansuBroker, free_port
from services.alerts.config import AlertsSettings, Scope
from services.alerts.main import create_app as create_alerts
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app as create_evaluator
from tests.integration.test_ingest_schemathesis import CONFIG, fuzz_all

TOKEN = "fuzz-token-0123456789"
TOKEN_SHA = hashlib.sha256(TOKEN.encode()).hexdigest()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# A department that leads report-based targets (milestones), so filing a status report gets past 403.
REPORTING_DEPARTMENT = "fgw"


@pytest.fixture(params=["evaluator", "alerts"])
def live(request: pytest.FixtureRequest, database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[str]:
    common = {"database_url": database_url, "kafka_bootstrap_servers": broker.bootstrap,
              "topic_prefix": topic_prefix, "topic_partitions": 1,
              "consumer_group": f"{topic_prefix}-{request.param}"}
    if request.param == "evaluator":
        app = create_evaluator(EvaluatorSettings(status_report_tokens={REPORTING_DEPARTMENT: TOKEN_SHA}, **common),
                               registry=CollectorRegistry())
    else:
        tokens = {"fuzz": {"sha256": TOKEN_SHA, "scopes": [s.value for s in Scope]}}
        app = create_alerts(AlertsSettings(webhook_secret="s", api_tokens=tokens, **common),
                            registry=CollectorRegistry())
    with TestClient(app):
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_schemathesis_finds_no_server_error_and_no_schema_violation(live: str) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(f"{live}/readyz", timeout=5).status_code != 200:  # the consumer joins its group first
        assert time.monotonic() < deadline, "the service did not become ready"
        time.sleep(0.2)
    schema = schemathesis.openapi.from_url(f"{live}/openapi.json", config=CONFIG)
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 5
    known: dict[str, list[str]] = {}
    if any(op.path.startswith("/v1/targets") for op in operations):
        targets = httpx.get(f"{live}/v1/targets", timeout=10).json()
        led = [t["id"] for t in targets if t["lead_department"] == REPORTING_DEPARTMENT]
        assert led, "the catalogue has targets led by the reporting department"
        known["target_id"] = led[:5] + [t["id"] for t in targets[:5]]
    else:
        r = httpx.post(f"{live}/v1/silences", headers=AUTH, timeout=10, json={
            "department": "fgw", "duration_minutes": 60, "owner": "督查室", "reason": "维护窗口"})
        assert r.status_code == 201, r.text
        known["silence_id"] = [r.json()["id"]]
    # /readyz: its documented 503 is the answer while a dependency is away, not a server fault.
    counts = fuzz_all([op for op in operations if op.path != "/readyz"], live, lambda op: AUTH, known)
    assert sum(counts.values()) >= 200 * 3
