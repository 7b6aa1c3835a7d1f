"""Schemathesis against the evaluator's and the alerts service's OpenAPI documents over real HTTP.

No 5xx and no response outside its documented schema, for requests with and without valid inputs (no
credentials: the write endpoints must answer a documented 401/403). Bounded like ingest's run.
"""

from __future__ import annotations

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
from services.alerts.config import AlertsSettings
from services.alerts.main import create_app as create_alerts
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app as create_evaluator
from tests.integration.test_ingest_schemathesis import _fuzz


@pytest.fixture(params=["evaluator", "alerts"])
def live(request: pytest.FixtureRequest, database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[str]:
    common = {"database_url": database_url, "kafka_bootstrap_servers": broker.bootstrap,
              "topic_prefix": topic_prefix, "topic_partitions": 1,
              "consumer_group": f"{topic_prefix}-{request.param}"}
    if request.param == "evaluator":
        app = create_evaluator(EvaluatorSettings(**common), registry=CollectorRegistry())
    else:
        app = create_alerts(AlertsSettings(webhook_secret="s", **common), registry=CollectorRegistry())
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
    schema = schemathesis.openapi.from_url(f"{live}/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 5
    for op in operations:
        if op.path == "/readyz":
            continue  # its documented 503 is the answer while a dependency is away, not a server fault
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _fuzz(op, mode, live, {})
