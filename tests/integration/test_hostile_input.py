"""Hostile input against ingest: each gets a clear 4xx naming the problem, and nothing is stored or published."""

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
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail and all("loc" in d and "msg" in d for d in detail), r.text
    assert ingest.outbox_count() == 0
    assert ingest.client.get("/v1/observations", params={"indicator": "gdp"}, headers=auth).json() == []


def test_oversized_body_is_413_and_nothing_is_stored(ingest: Ingest) -> None:
    auth = ingest.key()
    body = b'{"observations":[' + b",".join([b'{"indicator":"gdp"}'] * 80_000) + b"]}"
    assert len(body) > 1_000_000
    r = ingest.client.post("/v1/observations/batch", content=body, headers={**auth, **JSON})
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
