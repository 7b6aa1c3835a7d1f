"""An in-process ingest app on a real database and the session's broker, with a key-issuing helper."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from devstack.broker import free_port
from services.ingest.adapters.tables import outbox
from services.ingest.config import IngestSettings
from services.ingest.main import create_app
from shared.clock import FrozenClock

ADMIN_TOKEN = "test-admin-token"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Two figures a city bureau sends (the first quarter's GDP growth, March's retail sales), for the ingest tests.
GDP = {"indicator": "gdp", "region": "wuxi", "period": "2024-Q1", "measure": "cumulative_yoy_pct",
       "value": 4.9, "unit": "%", "status": "provisional"}
RETAIL = {"indicator": "retail_sales", "region": "wuxi", "period": "2024-M03", "measure": "cumulative_level",
          "value": 1012.3, "unit": "亿元"}


class Ingest:
    """A TestClient on a running ingest app, plus helpers."""

    def __init__(self, client: TestClient, registry: CollectorRegistry, clock: FrozenClock) -> None:
        self.client = client
        self.registry = registry
        self.clock = clock
        self.wiring = client.app.state.ingest  # type: ignore[attr-defined]
        self.engine = self.wiring.store.engine

    def key(self, organisation: str = "市统计局", indicators: list[str] | None = None,
            regions: list[str] | None = None) -> dict[str, str]:
        """Issue a key through the admin endpoint; returns the Authorization header."""
        r = self.client.post("/admin/keys", headers=ADMIN,
                             json={"organisation": organisation, "indicators": indicators, "regions": regions})
        assert r.status_code == 201, r.text
        return {"Authorization": f"Bearer {r.json()['key']}"}

    def outbox_count(self) -> int:
        """Events written to the outbox so far."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())

    def outbox_payloads(self) -> list[bytes]:
        """Every outbox payload, oldest first."""
        with self.engine.connect() as conn:
            return [bytes(p) for p in conn.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars()]

    def metric(self, name: str, labels: dict[str, str]) -> float:
        """A metric's current value (0 when absent)."""
        return self.registry.get_sample_value(name, labels) or 0.0


@contextmanager
def running_ingest(database_url: str, bootstrap: str, topic_prefix: str, **overrides: Any) -> Iterator[Ingest]:
    """Start ingest in-process (migrations, topics, relay) with a clock frozen at 2024-07-20."""
    settings = IngestSettings(**{
        "database_url": database_url, "kafka_bootstrap_servers": bootstrap, "topic_prefix": topic_prefix,
        "topic_partitions": 1, "admin_token": ADMIN_TOKEN, **overrides})
    registry = CollectorRegistry()
    clock = FrozenClock(datetime(2024, 7, 20, 8, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock, registry=registry)
    with TestClient(app) as client:
        yield Ingest(client, registry, clock)


@contextmanager
def serving(ingest: Ingest) -> Iterator[str]:
    """Serve a running ingest app over real HTTP (uvicorn in a thread); yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(ingest.client.app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
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
