"""Hostile input against all three services (oversized, truncated and deeply nested bodies, NUL and invalid
UTF-8, huge numbers): each gets a clear 4xx problem naming the problem, never a 5xx, and nothing is stored or
published."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.broker import TansuBroker
from tests.integration.ingest_app import Ingest, running_ingest

GOOD = {"indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[Ingest]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix, max_body_bytes=1_000_000) as app:
        yield app


def _deep(n: int) -> bytes:
    return b'{"indicator":' + b"[" * n + b"]" * n + b"}"


HOSTILE_JSON: list[tuple[str, bytes, int]] = [
    ("nan literal", b'{"indicator":"gdp","period":"2024-Q1","measure":"cumulative_yoy_pct","value":NaN,"unit":"%"}',
     422),
    ("infinity literal",
     b'{"indicator":"gdp","period":"2024-Q1","measure":"cumulative_yoy_pct","value":Infinity,"unit":"%"}', 422),
    ("huge number", b'{"indicator":"gdp","period":"2024-Q1","measure":"cumulative_yoy_pct","value":1e400,"unit":"%"}',
     422),
    ("huge integer", b'{"indicator":"gdp","period":"2024-Q1","measure":"cumulative_yoy_pct","value":'
     + b"9" * 5000 + b',"unit":"%"}', 422),
    ("quarter 5", b'{"indicator":"gdp","period":"2024-Q5","measure":"cumulative_yoy_pct","value":4.9,"unit":"%"}', 422),
    ("month 13", b'{"indicator":"retail_sales","period":"2024-M13","measure":"cumulative_yoy_pct","value":4.9,'
     b'"unit":"%"}', 422),
    ("deep nesting", _deep(5000), 422),
    ("latin-1 bytes", '{"indicator":"gdp","period":"2024-Q1","note":"é"}'.encode("latin-1"), 422),
    ("truncated", b'{"indicator":"gdp","period":"2024-Q1"', 422),
    ("not an object", b"[1,2,3]", 422),
    ("empty", b"", 422),
    ("null bytes", b'{"indicator":"gdp\x00","period":"2024-Q1","measure":"cumulative_yoy_pct","value":4.9,"unit":"%"}',
     422),
]


@pytest.mark.parametrize(("name", "body", "status"), HOSTILE_JSON, ids=[h[0] for h in HOSTILE_JSON])
def test_hostile_json_is_refused_and_nothing_is_stored(ingest: Ingest, name: str, body: bytes, status: int) -> None:
    auth = ingest.key()
    r = ingest.client.post("/v1/observations", content=body, headers={**auth, **JSON})
    assert r.status_code == status, (name, r.status_code, r.text)
    detail = r.json()["errors"]
    assert isinstance(detail, list) and detail and all("loc" in d and "msg" in d for d in detail), r.text
    assert ingest.outbox_count() == 0
    assert ingest.client.get("/v1/observations", params={"indicator": "gdp"}, headers=auth).json() == []


def test_oversized_body_is_413_and_nothing_is_stored(ingest: Ingest) -> None:
    auth = ingest.key()
    body = b'{"observations":[' + b",".join([b'{"indicator":"gdp"}'] * 80_000) + b"]}"
    assert len(body) > 1_000_000
    r = ingest.client.post("/v1/observations/batch", content=body, headers={**auth, **JSON})
    assert r.status_code == 413, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    r = ingest.client.post("/v1/observations/batch", content=iter([body[i : i + 65536] for i in range(
        0, len(body), 65536)]), headers={**auth, **JSON})  # chunked: no Content-Length
    assert r.status_code == 413, r.text
    assert ingest.outbox_count() == 0


HOSTILE_CSV: list[tuple[str, bytes, int, str]] = [
    ("formula in a text cell", "指标,地区,期别,口径,数值,单位,备注\ngdp,wuxi,2024-Q1,cumulative_yoy_pct,4.9,%,"
     "=cmd|' /C calc'!A0\n".encode(), 422, "formula"),
    ("formula with plus", "指标,地区,期别,口径,数值,单位,来源\ngdp,wuxi,2024-Q1,cumulative_yoy_pct,4.9,%,"
     "+HYPERLINK(\"http://x\")\n".encode(), 422, "formula"),
    ("broken quoting", '指标,地区,期别,口径,数值,单位\ngdp,wuxi,"2024-Q1,cumulative_yoy_pct,4.9,%\n'.encode(), 400, ""),
    ("not text", b"\xff\xfe\x00\x00\x9c\x00binary\x00\x01", 400, ""),
    ("empty file", b"", 400, ""),
    ("bad period", "指标,地区,期别,口径,数值,单位\ngdp,wuxi,2024-Q5,cumulative_yoy_pct,4.9,%\n".encode(), 422,
     "period"),
    ("nan value", "指标,地区,期别,口径,数值,单位\ngdp,wuxi,2024-Q1,cumulative_yoy_pct,NaN,%\n".encode(), 422, ""),
]


@pytest.mark.parametrize(("name", "body", "status", "rule"), HOSTILE_CSV, ids=[h[0] for h in HOSTILE_CSV])
def test_hostile_csv_is_refused_and_nothing_is_stored(ingest: Ingest, name: str, body: bytes, status: int,
                                                      rule: str) -> None:
    auth = ingest.key()
    r = ingest.client.post("/v1/observations/upload", content=body, headers={**auth, "Content-Type": "text/csv"})
    assert r.status_code == status, (name, r.status_code, r.text)
    assert rule in r.text
    assert ingest.outbox_count() == 0


def test_a_good_row_still_goes_through(ingest: Ingest) -> None:
    r = ingest.client.post("/v1/observations", json=GOOD, headers=ingest.key())
    assert r.status_code == 201, r.text
    assert ingest.outbox_count() == 1


# The evaluator and the alerts service (issue 11): hostile bodies to their write endpoints, with valid
# credentials, get a 4xx problem (never a 5xx) and store nothing. Their bodies are limited too (413, before
# being read: Content-Length and chunked).
TOKEN = "hostile-test-token"
SMALL_LIMIT = 4096


def _sha(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def writers(db_factory) -> Iterator[dict[str, tuple[object, str, str]]]:
    from fastapi.testclient import TestClient
    from prometheus_client import CollectorRegistry

    from services.alerts.config import AlertsSettings
    from services.alerts.main import MIGRATIONS as ALERTS_MIGRATIONS
    from services.alerts.main import create_app as create_alerts
    from services.evaluator.config import EvaluatorSettings
    from services.evaluator.main import MIGRATIONS as EVALUATOR_MIGRATIONS
    from services.evaluator.main import create_app as create_evaluator
    from shared.db import run_migrations

    # Only the routes and the databases: no lifespan, so no broker and no background loops.
    common = {"kafka_bootstrap_servers": "127.0.0.1:1", "max_body_bytes": SMALL_LIMIT}
    urls = db_factory(), db_factory()
    run_migrations(urls[0], EVALUATOR_MIGRATIONS)
    run_migrations(urls[1], ALERTS_MIGRATIONS)
    evaluator = create_evaluator(EvaluatorSettings(database_url=urls[0], status_report_tokens={
        "sthjj": _sha(TOKEN)}, **common), registry=CollectorRegistry())
    alerts = create_alerts(AlertsSettings(database_url=urls[1], webhook_secret="s", api_tokens={
        "ops": _sha(TOKEN)}, **common), registry=CollectorRegistry())
    e, a = TestClient(evaluator, raise_server_exceptions=False), TestClient(alerts, raise_server_exceptions=False)
    try:
        yield {"evaluator": (e, "/v1/targets/binding_environment_targets/status-reports",
                             "/v1/targets/binding_environment_targets/status-reports"),
               "alerts": (a, "/v1/silences", "/v1/silences")}
    finally:
        evaluator.state.runtime.database.dispose()
        alerts.state.runtime.db.engine.dispose()


def _nested(n: int) -> bytes:
    return b'{"note":' + b"[" * n + b"]" * n + b',"status":"at_risk"}'


GOOD_BODIES = {"evaluator": '{"status":"at_risk","note":"PM2.5浓度上升"}'.encode(),
               "alerts": '{"department":"fgw","duration_minutes":60,"owner":"ops","reason":"演练"}'.encode()}
HOSTILE_WRITES: list[tuple[str, bytes, tuple[int, ...]]] = [
    ("truncated", b'{"status":"at_risk","note":"abc', (400, 422)),
    ("not an object", b"[1,2,3]", (422,)),
    ("empty", b"", (400, 422)),
    ("deep nesting", _nested(3000), (400, 413, 422)),
    ("nul escape", b'{"status":"at_risk","note":"a\\u0000b","department":"fgw","duration_minutes":60,'
                   b'"owner":"o\\u0000","reason":"r\\u0000r"}', (422,)),
    ("raw nul", b'{"status":"at_risk","note":"a\x00b"}', (400, 422)),
    ("latin-1 bytes", '{"status":"at_risk","note":"ééé","owner":"é","reason":"éé"}'.encode("latin-1"), (400, 422)),
    ("huge number", b'{"status":1e400,"note":1e400,"department":"fgw","duration_minutes":1e400,"owner":"o",'
                    b'"reason":"rr"}', (422,)),
    ("huge integer", b'{"status":"at_risk","note":"ab","department":"fgw","duration_minutes":' + b"9" * 3000
                     + b',"owner":"o","reason":"rr"}', (422,)),
]


@pytest.mark.parametrize("service", ["evaluator", "alerts"])
@pytest.mark.parametrize(("name", "body", "statuses"), HOSTILE_WRITES, ids=[h[0] for h in HOSTILE_WRITES])
def test_hostile_bodies_to_the_evaluator_and_alerts_are_refused(writers, service: str, name: str, body: bytes,
                                                                statuses: tuple[int, ...]) -> None:
    client, write, read = writers[service]
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    r = client.post(write, content=body, headers=auth)  # type: ignore[attr-defined]
    assert r.status_code in statuses, (service, name, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    assert r.json()["status"] == r.status_code and r.json()["errors"], r.text
    assert client.get(read, headers=auth).json() == []  # type: ignore[attr-defined]
    if name == "nul escape":
        assert r.json()["errors"][0]["type"] == "nul_character"
    ok = client.post(write, content=GOOD_BODIES[service], headers=auth)  # type: ignore[attr-defined]
    assert ok.status_code in (200, 201), ok.text  # the service still works, and the check really could pass


@pytest.mark.parametrize("service", ["evaluator", "alerts"])
def test_oversized_bodies_are_413_before_they_are_read(writers, service: str) -> None:
    client, write, read = writers[service]
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    big = b'{"status":"at_risk","note":"' + b"x" * (SMALL_LIMIT * 4) + b'"}'
    r = client.post(write, content=big, headers=auth)  # type: ignore[attr-defined]
    assert r.status_code == 413 and r.json()["errors"][0]["type"] == "body_too_large", r.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 1000):
            yield big[i : i + 1000]

    r = client.post(write, content=chunks(), headers=auth)  # type: ignore[attr-defined]
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert client.get(read, headers=auth).json() == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("service", ["evaluator", "alerts"])
def test_nul_in_a_query_is_refused_before_the_database(writers, service: str) -> None:
    client, _, read = writers[service]
    r = client.get(read.replace("/status-reports", "") if service == "evaluator" else "/v1/alerts",  # type: ignore
                   params={"department": "fgw\x00"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "nul_character", r.text
