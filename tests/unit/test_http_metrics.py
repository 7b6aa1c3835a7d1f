"""The HTTP metrics middleware: every request counted by method, route template and status, errors as 500."""

import logging

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from shared.metrics import CommonMetrics, HttpMetrics


def _app() -> tuple[FastAPI, CommonMetrics]:
    metrics = CommonMetrics(CollectorRegistry(), "test")
    app = FastAPI()
    app.add_middleware(HttpMetrics, metrics=metrics)

    @app.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        if item_id == 0:
            raise HTTPException(404, "none")
        if item_id == 13:
            raise RuntimeError("boom")
        return {"id": item_id}

    @app.get("/metrics")
    def scrape() -> str:
        return "x"

    return app, metrics


def _count(metrics: CommonMetrics, method: str, route: str, status: str) -> float:
    value = metrics.registry.get_sample_value("http_requests_total",
                                              {"method": method, "route": route, "status": status})
    return value or 0.0


def test_requests_are_counted_by_route_template_and_status(caplog: pytest.LogCaptureFixture) -> None:
    app, metrics = _app()
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.INFO, logger="wuxi.access"):
        assert client.get("/items/1").status_code == 200
        assert client.get("/items/2").status_code == 200
        assert client.get("/items/0").status_code == 404
        assert client.get("/items/13").status_code == 500
        assert client.get("/nowhere").status_code == 404
        assert client.get("/metrics").status_code == 200
    assert _count(metrics, "GET", "/items/{item_id}", "200") == 2
    assert _count(metrics, "GET", "/items/{item_id}", "404") == 1
    assert _count(metrics, "GET", "/items/{item_id}", "500") == 1  # the exception escaped the app
    assert _count(metrics, "GET", "unmatched", "404") == 1
    assert _count(metrics, "GET", "/metrics", "200") == 0  # scrapes are not counted
    assert metrics.registry.get_sample_value("http_request_duration_seconds_count",
                                             {"method": "GET", "route": "/items/{item_id}"}) == 4
    lines = [r for r in caplog.records if r.name == "wuxi.access"]
    assert [(r.path, r.status, r.route) for r in lines][:3] == [  # type: ignore[attr-defined]
        ("/items/1", 200, "/items/{item_id}"), ("/items/2", 200, "/items/{item_id}"),
        ("/items/0", 404, "/items/{item_id}")]
    assert all(r.duration_s >= 0 and r.client for r in lines)  # type: ignore[attr-defined]
