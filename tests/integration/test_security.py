"""Security properties that hold across the services: writes need credentials, keys stay secret."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from sqlalchemy import select

from devstack.broker import TansuBroker
from services.alerts.config import AlertsSettings
from services.alerts.main import create_app as create_alerts
from services.alerts.receivers import ReceiverConfigError
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app as create_evaluator
from services.ingest.adapters.tables import api_keys
from tests.integration.ingest_app import ADMIN, Ingest, running_ingest

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _write_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every write operation the app documents (its OpenAPI document is the contract)."""
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method in ops:
            if method.upper() in WRITE_METHODS:
                out.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return out


@pytest.fixture
def ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[Ingest]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix) as app:
        yield app


@pytest.fixture
def other_apps(db_factory, broker: TansuBroker, topic_prefix: str) -> Iterator[list[TestClient]]:
    common = {"kafka_bootstrap_servers": broker.bootstrap, "topic_prefix": topic_prefix, "topic_partitions": 1}
    evaluator = create_evaluator(EvaluatorSettings(database_url=db_factory(), **common), registry=CollectorRegistry())
    alerts = create_alerts(AlertsSettings(database_url=db_factory(), webhook_secret="s", **common),
                           registry=CollectorRegistry())
    with TestClient(evaluator) as e, TestClient(alerts) as a:
        yield [e, a]


def _assert_refused(client: TestClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    routes = _write_routes(client.app)  # type: ignore[arg-type]
    for method, path in routes:
        r = client.request(method, path, json={}, headers=headers)
        assert r.status_code in (401, 403, 404), f"{method} {path} answered {r.status_code} without credentials"
        assert r.status_code != 404 or path.startswith("/admin"), f"{method} {path}: 404 instead of 401"
    return routes


def test_every_write_endpoint_of_every_service_requires_credentials(ingest: Ingest, other_apps) -> None:
    checked = []
    for client in [ingest.client, *other_apps]:
        checked += _assert_refused(client, {})
        checked += _assert_refused(client, {"Authorization": "Bearer not-a-real-key"})
    assert ("POST", "/v1/observations") in checked  # the check really ran over the write routes
    assert ("POST", "/admin/keys") in checked


def test_a_bureau_key_cannot_use_admin_endpoints_nor_read_other_keys(ingest: Ingest) -> None:
    mine = ingest.key("江阴市统计局", regions=["jiangyin"])
    ingest.key("宜兴市统计局", regions=["yixing"])
    for method, path in [("GET", "/admin/keys"), ("POST", "/admin/keys"), ("POST", "/admin/replay"),
                         ("POST", "/admin/keys/1/revoke")]:
        r = ingest.client.request(method, path, json={}, headers=mine)
        assert r.status_code in (401, 403), (method, path, r.status_code)
    me = ingest.client.get("/v1/keys/me", headers=mine)
    assert me.status_code == 200 and me.json()["organisation"] == "江阴市统计局"
    assert "宜兴" not in me.text


def test_keys_are_stored_hashed_and_never_logged(ingest: Ingest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    r = ingest.client.post("/admin/keys", headers=ADMIN, json={"organisation": "市统计局"})
    key = r.json()["key"]
    assert len(key) >= 32
    ingest.client.post("/v1/observations", headers={"Authorization": f"Bearer {key}"}, json={
        "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"})
    ingest.client.post("/v1/observations", headers={"Authorization": f"Bearer {key}x"}, json={})
    with ingest.engine.connect() as conn:
        stored = [tuple(str(v) for v in row) for row in conn.execute(select(api_keys))]
    assert stored and not any(key in value for row in stored for value in row)
    assert key not in caplog.text
    assert ADMIN["Authorization"].split()[1] not in caplog.text


def test_secrets_have_no_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ALERTS_WEBHOOK_SECRET", "ALERTS_WEBHOOK_SECRETS", "ALERTS_LINK_SECRET"):
        monkeypatch.delenv(var, raising=False)
    # Acknowledgement links need their own key, never derived from another one.
    with pytest.raises(ValidationError, match="ALERTS_LINK_SECRET"):
        AlertsSettings(public_url="http://alerts.example")  # type: ignore[call-arg]
    # A webhook without a signing secret stops start-up, naming the variable to set.
    with pytest.raises(ReceiverConfigError, match="ALERTS_WEBHOOK_SECRET"):
        create_alerts(AlertsSettings(default_webhook_url="http://127.0.0.1:9/hook"),  # type: ignore[call-arg]
                      registry=CollectorRegistry())
