"""The local broker keeps nothing across a restart: the services recover, and a replay rebuilds what was lost."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from devstack.stack import SERVICES, Stack

pytestmark = pytest.mark.e2e


def _own_broker_stack(tmp_path: Path, db_factory, receiver: Receiver, topic_prefix: str) -> tuple[TansuBroker, Stack]:
    """A started stack on a broker of its own (these tests kill it), notifying 市发展改革委 at the receiver."""
    broker = TansuBroker(log_path=tmp_path / "broker.log")
    broker.start()
    stack = Stack(
        data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix,
        database_urls={name: db_factory() for name in SERVICES},
        extra_env={"alerts": {"ALERTS_WEBHOOK_URLS": json.dumps({"fgw": f"{receiver.url}/fgw"}),
                              "ALERTS_WEBHOOK_SECRET": "s"}},
    )
    stack.start()
    return broker, stack


def test_services_recover_after_the_broker_lost_everything(tmp_path: Path, db_factory, receiver: Receiver,
                                                           topic_prefix: str) -> None:
    broker, stack = _own_broker_stack(tmp_path, db_factory, receiver, topic_prefix)
    try:
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
        ingest = stack.url("ingest")

        def post(value: float) -> None:
            r = httpx.post(f"{ingest}/v1/observations", headers=auth, timeout=10, json={
                "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": value,
                "unit": "%", "revision_reason": "修订"})
            assert r.status_code in (200, 201), r.text

        post(3.0)
        assert len(receiver.wait_for(1, 60)) == 1
        broker.stop()
        post(8.0)  # accepted while the broker is down: it waits in ingest's outbox
        broker.start()  # empty: no topics, no offsets, no groups
        assert len(receiver.wait_for(2, 90)) == 2, "the recovery notification never arrived"
        post(3.0)
        assert len(receiver.wait_for(3, 60)) == 3
        kinds = [r.json()["kind"] for r in receiver.requests]
        assert kinds == ["firing", "resolved", "firing"]
    finally:
        stack.stop()
        broker.stop()


def test_a_replay_rebuilds_status_changes_the_broker_lost(tmp_path: Path, db_factory, receiver: Receiver,
                                                           topic_prefix: str) -> None:
    broker, stack = _own_broker_stack(tmp_path, db_factory, receiver, topic_prefix)
    try:
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
        stack.services["alerts"].stop()  # nobody consumes the evaluator's events for now
        r = httpx.post(f"{stack.url('ingest')}/v1/observations", headers=auth, timeout=10, json={
            "indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 3.0, "unit": "%"})
        assert r.status_code == 201, r.text
        # Wait until the evaluator has published the deviation, then lose it with the broker.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            board = httpx.get(f"{stack.url('evaluator')}/v1/targets", params={"section": "headline"}).json()
            if any(t["id"] == "gdp_growth" and t["status"] for t in board):
                break
            time.sleep(0.3)
        time.sleep(1.5)  # the relay publishes right after the commit
        broker.kill()
        broker.start()
        stack.services["alerts"].start()
        stack.services["alerts"].wait_ready(90)
        assert receiver.wait_for(1, 5) == [], "the deviation should have been lost with the broker"
        replay = httpx.post(f"{stack.url('ingest')}/admin/replay", timeout=30,
                            headers={"Authorization": f"Bearer {stack.ingest_admin_token}"},
                            json={"from_period": "2024-Q1", "to_period": "2024-Q1"})
        assert replay.status_code == 202, replay.text
        got = receiver.wait_for(1, 90)
        assert len(got) == 1, "the replay did not bring the lost deviation back"
        payload = got[0].json()
        assert payload["event"]["target_id"] == "gdp_growth" and payload["event"]["restated"] is True
        time.sleep(3)
        assert len(receiver.requests) == 1
    finally:
        stack.stop()
        broker.stop()
