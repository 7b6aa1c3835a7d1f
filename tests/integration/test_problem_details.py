"""One error contract (issue 16, item 3): a bad request to every operation of every service's OpenAPI document
is answered as RFC 9457 problem details with Chinese and English messages, and every documented error says so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from devstack.broker import TansuBroker
from services.alerts.config import AlertsSettings
from services.alerts.main import create_app as create_alerts
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app as create_evaluator
from tests.integration.ingest_app import ADMIN, running_ingest

CJK = re.compile(r"[\u4e00-\u9fff]")
TOKEN = "problem-test-token"
PROBLEM_JSON = "application/problem+json"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def services(db_factory, broker: TansuBroker, topic_prefix: str) -> Iterator[list[tuple[str, TestClient,
                                                                                        dict[str, str]]]]:
    common = {"kafka_bootstrap_servers": broker.bootstrap, "topic_prefix": topic_prefix, "topic_partitions": 1}
    evaluator = create_evaluator(EvaluatorSettings(database_url=db_factory(), status_report_tokens={
        "sthjj": _sha(TOKEN)}, consumer_group=f"{topic_prefix}-e", **common), registry=CollectorRegistry())
    alerts = create_alerts(AlertsSettings(database_url=db_factory(), webhook_secret="s", api_tokens={
        "ops": _sha(TOKEN)}, consumer_group=f"{topic_prefix}-a", **common), registry=CollectorRegistry())
    with running_ingest(db_factory(), broker.bootstrap, topic_prefix) as ingest, \
            TestClient(evaluator, raise_server_exceptions=False) as e, \
            TestClient(alerts, raise_server_exceptions=False) as a:
        bureau = ingest.key()
        yield [("ingest", ingest.client, bureau), ("evaluator", e, {"Authorization": f"Bearer {TOKEN}"}),
               ("alerts", a, {"Authorization": f"Bearer {TOKEN}"})]


def _bad_value(schema: dict[str, Any]) -> str:
    """A value the parameter's schema refuses (or, without constraints, one nothing can be found under)."""
    schema = next((s for s in schema.get("anyOf", []) if s.get("type") != "null"), schema)
    if "maxLength" in schema:
        return "x" * (schema["maxLength"] + 1)
    if schema.get("type") in ("integer", "number"):
        return "not-a-number"
    if schema.get("type") == "boolean":
        return "perhaps"
    if "enum" in schema or "pattern" in schema:
        return "\u0000not-allowed"
    return "no-such-thing-" + "x" * 40


def _bad_request(path: str, method: str, op: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(method, url, request kwargs) breaking the operation's inputs: its body, else a parameter, else the method."""
    params = op.get("parameters", [])
    url = path
    for p in params:
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", _bad_value(p.get("schema", {})))
    if "requestBody" in op:
        content = op["requestBody"].get("content", {})
        if "text/csv" in content:
            return method, url, {"content": b"\xff\xfe\x00\x81 not text", "headers": {"Content-Type": "text/csv"}}
        return method, url, {"content": b'{"truncated": [1, 2', "headers": {"Content-Type": "application/json"}}
    query = [p for p in params if p["in"] == "query"]
    if query:
        return method, url, {"params": {p["name"]: _bad_value(p.get("schema", {})) for p in query}}
    if any(p["in"] == "path" for p in params):
        return method, url, {}
    return ("PATCH" if method != "patch" else "PUT"), url, {}  # nothing to break but the method: 405


def _assert_problem(service: str, what: str, r: Any) -> None:
    assert r.status_code >= 400, f"{service} {what}: {r.status_code} {r.text[:200]}"
    assert r.headers["content-type"].startswith(PROBLEM_JSON), f"{service} {what}: {r.headers['content-type']}"
    body = r.json()
    assert {"type", "title", "status", "detail", "title_en", "detail_en", "errors"} <= body.keys(), body
    assert body["status"] == r.status_code and body["type"].startswith("urn:wuxi-targets:problem:")
    assert CJK.search(body["title"]) and CJK.search(body["detail"]), body
    for e in body["errors"]:
        assert set(e) == {"loc", "type", "msg", "msg_zh"} and isinstance(e["loc"], list), e
        assert CJK.search(e["msg_zh"]) and e["msg"], e


def test_a_bad_request_to_every_operation_of_every_service_is_problem_details(services) -> None:
    checked: dict[str, int] = {}
    for service, client, headers in services:
        doc = client.get("/openapi.json").json()
        for path, ops in doc["paths"].items():
            for method, op in ops.items():
                bad_method, url, kwargs = _bad_request(path, method, op)
                if path.startswith("/admin"):
                    kwargs["headers"] = {**kwargs.get("headers", {}), **ADMIN}
                else:
                    kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
                r = client.request(bad_method.upper(), url, **kwargs)
                _assert_problem(service, f"{bad_method.upper()} {url}", r)
                checked[service] = checked.get(service, 0) + 1
                # …and the document says so for every error it lists.
                for code, response in op["responses"].items():
                    if code.startswith(("4", "5")) and not response.get("content", {}).get(PROBLEM_JSON):
                        assert path == "/readyz" and code == "503", f"{service} {method} {path} {code}: {response}"
    assert checked["ingest"] >= 12 and checked["evaluator"] >= 6 and checked["alerts"] >= 12, checked


def test_no_credentials_and_unknown_routes_are_problem_details_too(services) -> None:
    for service, client, _ in services:
        _assert_problem(service, "unknown route", client.get("/v1/no-such-route"))
        doc = client.get("/openapi.json").json()
        writes = [(m, p) for p, ops in doc["paths"].items() for m in ops if m in ("post", "delete")]
        method, path = writes[0]
        r = client.request(method.upper(), re.sub(r"\{[^}]+\}", "1", path), json={})
        assert r.status_code in (401, 403, 404)
        _assert_problem(service, f"{method} {path} without credentials", r)


def test_pydantic_errors_are_translated_naming_the_field(services) -> None:
    _, ingest, bureau = services[0]
    r = ingest.post("/v1/observations", headers=bureau, json={
        "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": "4.9x", "unit": "%",
        "note": "n" * 2001, "surplus": 1})
    assert r.status_code == 422
    errors = {tuple(e["loc"]): e for e in r.json()["errors"]}
    assert errors[("body", "value")]["msg_zh"] == "应为数字"
    assert errors[("body", "note")]["msg_zh"] == "长度不能超过2000个字符"
    assert errors[("body", "surplus")]["type"] == "extra_forbidden"
    assert r.json()["title"] == "请求内容有误" and r.json()["title_en"] == "Invalid request"
