"""Never lose an accepted row: with the broker down ingest keeps accepting, and publishes once it is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import func, select

from devstack.broker import TansuBroker, free_port
from services.ingest.adapters.tables import outbox
from shared.messages import decode
from tests.integration.ingest_app import Ingest, running_ingest

MONTHLY = ("general_budget_revenue", "fixed_asset_investment", "retail_sales", "foreign_trade")
REGIONS = ("wuxi", "jiangyin", "yixing", "liangxi", "xishan", "huishan", "binhu", "xinwu", "jingkai")


def _rows(indicator: str) -> list[dict[str, object]]:
    return [
        {"indicator": indicator, "region": region, "period": f"2024-M{month:02d}", "measure": measure,
         "value": value, "unit": unit}
        for region in REGIONS for month in range(1, 7)
        for measure, value, unit in (("cumulative_level", 10.0 * month, "亿元"), ("cumulative_yoy_pct", 5.0, "%"))
    ]


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A broker of this test's own, which it stops and restarts (on the same port)."""
    b = TansuBroker(port=free_port(), log_path=tmp_path / "broker.log")
    b.start()
    yield b
    b.stop()


def _consume(bootstrap: str, topic: str, want: set[str], timeout_s: float = 60.0) -> set[str]:
    """Event ids read from the topic (from the beginning) until ``want`` are all seen or the time is up."""
    consumer = KafkaConsumer(bootstrap_servers=[bootstrap], enable_auto_commit=False, group_id=None,
                             auto_offset_reset="earliest", fetch_max_wait_ms=50)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        seen: set[str] = set()
        deadline = time.monotonic() + timeout_s
        while not want <= seen and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                seen.update(decode(r.value).id for r in records)
        return seen
    finally:
        consumer.close()


def _event_ids(ingest: Ingest) -> list[str]:
    with ingest.engine.connect() as conn:
        return list(conn.execute(select(outbox.c.event_id).order_by(outbox.c.id)).scalars())


def _unsent(ingest: Ingest) -> int:
    with ingest.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar_one())


def test_broker_outage_during_a_sequence_of_batches_loses_nothing(
    database_url: str, own_broker: TansuBroker, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}.observations"
    with running_ingest(database_url, own_broker.bootstrap, topic_prefix, outbox_poll_interval_s=0.1) as ingest:
        auth = ingest.key()
        r = ingest.client.post("/v1/observations/batch", json={"observations": _rows(MONTHLY[0])}, headers=auth)
        assert r.status_code == 201 and r.json()["created"] == 108
        before = set(_event_ids(ingest))
        assert before <= _consume(own_broker.bootstrap, topic, before), "the first batch was not published"

        own_broker.kill()  # a crash, mid-sequence: the relay may be between rounds or mid-send
        for indicator in MONTHLY[1:]:
            start = time.monotonic()
            r = ingest.client.post("/v1/observations/batch", json={"observations": _rows(indicator)}, headers=auth)
            assert r.status_code == 201, r.text
            assert time.monotonic() - start < 5, "accepting must not wait for the broker"
        r = ingest.client.post("/v1/observations", headers=auth, json={**_rows(MONTHLY[0])[0], "value": 11.0,
                                                                          "revision_reason": "核实"})
        assert r.status_code == 201 and r.json()["outcome"] == "revised"
        during = set(_event_ids(ingest)) - before
        assert len(during) == 3 * 108 + 1
        assert _unsent(ingest) > 0
        assert ingest.client.get("/readyz").status_code == 503  # the broker check says so

        own_broker.start()  # back, empty (Tansu keeps nothing): the relay re-creates the topic and publishes
        deadline = time.monotonic() + 90
        while _unsent(ingest):
            assert time.monotonic() < deadline, f"{_unsent(ingest)} events still unpublished"
            time.sleep(0.2)
        arrived = _consume(own_broker.bootstrap, topic, during)
        assert during <= arrived, f"{len(during - arrived)} accepted events never arrived"
