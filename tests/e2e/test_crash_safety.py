"""Kill -9 each service mid-stream and restart it: nothing accepted is lost, no department is told twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from devstack.broker import TansuBroker
from devstack.idle import wait_idle
from devstack.receiver import Receiver
from devstack.stack import SERVICES, Stack
from shared.db import normalise_url

pytestmark = pytest.mark.e2e
POSTS = 24


def _restart(stack: Stack, name: str) -> None:
    svc = stack.services[name]
    svc.kill()
    svc.start()
    svc.wait_ready(60)


def _scalar(url: str, sql: str) -> int:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return int(value or 0)


def test_sigkill_of_each_service_loses_nothing_and_repeats_nothing(
    tmp_path: Path, db_factory, broker: TansuBroker, receiver: Receiver, topic_prefix: str
) -> None:
    urls = {name: db_factory() for name in SERVICES}
    stack = Stack(
        data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix, database_urls=urls,
        extra_env={"alerts": {"ALERTS_WEBHOOK_URLS": json.dumps({"fgw": f"{receiver.url}/fgw"}),
                              "ALERTS_WEBHOOK_SECRET": "s"}},
    )
    stack.start()
    try:
        ids = []
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
        for i in range(POSTS):
            # Far below, then far above 5.5%左右: every figure flips the target's status.
            value = 3.0 if i % 2 == 0 else 8.0
            r = httpx.post(f"{stack.url('ingest')}/v1/observations", timeout=10, headers=auth, json={
                "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": value,
                "unit": "%", "revision_reason": f"第{i}次修订" if i else None})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            if i == 4:
                _restart(stack, "ingest")  # killed right after accepting: its outbox must still publish
            elif i == 10:
                _restart(stack, "evaluator")
            elif i == 16:
                _restart(stack, "alerts")
            time.sleep(0.05)

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(set(receiver.idempotency_keys())) < POSTS:
            time.sleep(0.2)
        wait_idle(stack)  # nothing left to do anywhere: any repeat has arrived
    finally:
        stack.stop()

    assert len(set(ids)) == POSTS
    assert _scalar(urls["ingest"], "SELECT count(*) FROM observations") == POSTS
    assert _scalar(urls["ingest"], "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    assert _scalar(urls["evaluator"], "SELECT count(DISTINCT observation_id) FROM evaluations") == POSTS
    assert _scalar(urls["evaluator"], "SELECT count(*) FROM evaluations WHERE published") == POSTS

    keys = receiver.idempotency_keys()
    assert len(set(keys)) == POSTS, f"expected {POSTS} distinct notifications, got {len(set(keys))}"
    # A repeat can only be a retry of the same notification (same key), never a second notification.
    payloads = {}
    for req in receiver.requests:
        p = req.json()
        payloads.setdefault(p["idempotency_key"], (p["alert_id"], p["kind"]))
    per_alert_kind = Counter(payloads.values())
    assert all(n == 1 for n in per_alert_kind.values()), per_alert_kind
    kinds = Counter(kind for _, kind in payloads.values())
    assert kinds == {"firing": POSTS // 2, "resolved": POSTS // 2}
