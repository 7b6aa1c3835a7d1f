"""Crash each service exactly at a risky moment (a fault point of shared/faults.py), restart it, and check
the documented outcome: nothing lost, nothing told twice, a repeat only with the same idempotency key.

docs/testing.md ("Crashes at the risky moments") lists the points and what each test holds the system to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from devstack.broker import TansuBroker
from devstack.idle import Idleness, scalar
from devstack.receiver import Receiver
from devstack.stack import SERVICES, ServiceProcess, Stack
from shared.messages import decode
from tests.e2e.test_scale_out import (
    GROUP_ENV,
    PARTITIONS,
    Deviations,
    metric,
    observations_and_expected_changes,
    wait_for,
)

pytestmark = pytest.mark.e2e
# Far below 5.5%左右: the GDP target turns critical, one status change, one notification to 发改委.
LOW_GDP = {"indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 3.0, "unit": "%"}


@pytest.fixture
def urls(db_factory) -> dict[str, str]:
    return {name: db_factory() for name in SERVICES}


def _stack(tmp_path: Path, broker: TansuBroker, topic_prefix: str, urls: dict[str, str], receiver: Receiver,
           **kw: object) -> Stack:
    extra = kw.pop("extra_env", {})
    assert isinstance(extra, dict)
    return Stack(data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix, database_urls=urls,
                 extra_env={**extra, "alerts": {"ALERTS_WEBHOOK_URLS": json.dumps({"fgw": f"{receiver.url}/fgw"}),
                                                "ALERTS_WEBHOOK_SECRET": "faults", **extra.get("alerts", {})}},
                 **kw)  # type: ignore[arg-type]


@pytest.fixture
def idle_of() -> Iterator[list[Idleness]]:
    made: list[Idleness] = []
    yield made
    for i in made:
        i.close()


def _restart(svc: ServiceProcess) -> None:
    svc.disarm()
    svc.start()
    svc.wait_ready(60)


def _post(stack: Stack, auth: dict[str, str], key: str, body: dict[str, object]) -> str:
    """Post one observation with an Idempotency-Key; the id ingest stored."""
    r = httpx.post(f"{stack.url('ingest')}/v1/observations", json=body, timeout=10,
                   headers={**auth, "Idempotency-Key": key})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _records(bootstrap: str, topic: str) -> list[str]:
    """The event ids on a topic, in offset order per partition (read to its high watermark)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    assert tps, f"{topic} has no partitions"
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, 0)  # not seek_to_beginning: Tansu's ListOffsets misleads (docs/kafka.md)
    ids: list[str] = []
    try:
        while True:
            for recs in consumer.poll(timeout_ms=300).values():
                ids += [decode(r.value).id for r in recs]
            highs = [consumer.highwater(tp) for tp in tps]
            if all(h is not None and consumer.position(tp) >= h for tp, h in zip(tps, highs, strict=True)):
                return ids
    finally:
        consumer.close()


def test_ingest_killed_after_the_broker_took_its_batch_resends_it_and_the_evaluator_drops_the_copy(
    tmp_path: Path, urls: dict[str, str], broker: TansuBroker, receiver: Receiver, topic_prefix: str,
    idle_of: list[Idleness],
) -> None:
    stack = _stack(tmp_path, broker, topic_prefix, urls, receiver)
    ingest = stack.services["ingest"]
    ingest.arm("outbox.after_send")
    stack.start()
    try:
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
        try:  # the relay may kill ingest before the answer is written: retry with the same key, as clients do
            first = _post(stack, auth, "gdp-q1", LOW_GDP)
        except httpx.HTTPError:
            first = None
        assert "outbox.after_send" in ingest.wait_fault("outbox.after_send")
        assert scalar(urls["ingest"], "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1  # sent, not marked
        _restart(ingest)
        oid = _post(stack, auth, "gdp-q1", LOW_GDP)
        assert first in (None, oid)
        idle = Idleness(stack, urls)
        idle_of.append(idle)
        idle.wait(60)
        # The relay sent the batch again: two copies on the topic, one event id; the evaluator handled one.
        copies = _records(broker.bootstrap, f"{topic_prefix}.observations")
        assert len(copies) == 2 and len(set(copies)) == 1, copies
        observations_topic = f"{topic_prefix}.observations"
        evaluator = stack.services["evaluator"]
        assert metric(evaluator, "consumer_messages_total", topic=observations_topic, outcome="processed") == 1
        assert metric(evaluator, "consumer_messages_total", topic=observations_topic, outcome="duplicate") == 1
    finally:
        stack.stop()
    assert scalar(urls["ingest"], "SELECT count(*) FROM observations") == 1
    assert scalar(urls["evaluator"], "SELECT count(*) FROM evaluations") == 1
    assert len(receiver.requests) == 1, [r.headers for r in receiver.requests]


def test_evaluator_killed_between_its_database_commit_and_the_offset_commit_changes_nothing_twice(
    tmp_path: Path, urls: dict[str, str], broker: TansuBroker, receiver: Receiver, topic_prefix: str,
    idle_of: list[Idleness],
) -> None:
    stack = _stack(tmp_path, broker, topic_prefix, urls, receiver)
    evaluator = stack.services["evaluator"]
    evaluator.arm("consumer.after_db_commit")
    stack.start()
    try:
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
        _post(stack, auth, "gdp-q1", LOW_GDP)
        evaluator.wait_fault("consumer.after_db_commit")
        # Committed in the database (the evaluation, its outbox event, the event id), not in Kafka.
        assert scalar(urls["evaluator"], "SELECT count(*) FROM evaluations") == 1
        assert scalar(urls["evaluator"], "SELECT count(*) FROM processed_events") == 1
        _restart(evaluator)
        idle = Idleness(stack, urls)
        idle_of.append(idle)
        idle.wait(60)
        observations_topic = f"{topic_prefix}.observations"
        # Redelivered after the restart and dropped by processed_events: no second evaluation or status change.
        assert metric(evaluator, "consumer_messages_total", topic=observations_topic, outcome="duplicate") == 1
        assert metric(evaluator, "consumer_messages_total", topic=observations_topic, outcome="processed") == 0
        changes = _records(broker.bootstrap, f"{topic_prefix}.deviations")
        assert len(changes) == 1, changes
    finally:
        stack.stop()
    assert scalar(urls["evaluator"], "SELECT count(*) FROM evaluations") == 1
    assert scalar(urls["alerts"], "SELECT count(*) FROM notifications") == 1
    assert len(receiver.requests) == 1, [r.headers for r in receiver.requests]


def test_alerts_killed_after_a_delivery_before_recording_it_resends_it_once_with_the_same_key(
    tmp_path: Path, urls: dict[str, str], broker: TansuBroker, receiver: Receiver, topic_prefix: str,
    idle_of: list[Idleness],
) -> None:
    stack = _stack(tmp_path, broker, topic_prefix, urls, receiver)
    alerts = stack.services["alerts"]
    alerts.arm("alerts.dispatcher.delivered")
    stack.start()
    try:
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
        _post(stack, auth, "gdp-q1", LOW_GDP)
        alerts.wait_fault("alerts.dispatcher.delivered")
        assert len(receiver.requests) == 1  # the receiver has it; the alerts service has no record of that
        assert scalar(urls["alerts"], "SELECT count(*) FROM delivery_attempts") == 0
        _restart(alerts)
        idle = Idleness(stack, urls)
        idle_of.append(idle)
        idle.wait(60)
    finally:
        stack.stop()
    # README ("Exactly once, as far as it goes"): sent again once, with the same webhook-id and Idempotency-Key.
    assert len(receiver.requests) == 2
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.headers["Idempotency-Key"] == again.headers["Idempotency-Key"] == first.headers["webhook-id"]
    assert first.body == again.body
    assert len(receiver.unique()) == 1
    assert scalar(urls["alerts"], "SELECT count(*) FROM notifications WHERE status = 'sent'") == 1
    assert scalar(urls["alerts"], "SELECT count(*) FROM delivery_attempts") == 1


def test_an_evaluator_killed_mid_rebalance_as_a_second_joins_loses_and_repeats_no_status_change(
    tmp_path: Path, urls: dict[str, str], broker: TansuBroker, receiver: Receiver, topic_prefix: str,
    idle_of: list[Idleness],
) -> None:
    stack = _stack(tmp_path, broker, topic_prefix, urls, receiver, replicas={"evaluator": 2},
                   extra_env={"evaluator": GROUP_ENV, "ingest": {"INGEST_TOPIC_PARTITIONS": str(PARTITIONS)},
                              "alerts": {"ALERTS_TOPIC_PARTITIONS": str(PARTITIONS)}})
    first, second = stack.replicas_of("evaluator")
    first.arm("consumer.partitions_revoked")
    observations_topic = f"{topic_prefix}.observations"
    deviations = None
    assert stack.broker is not None
    for svc in stack.processes:  # the second replica joins later, into a group the first one leads
        if svc is not second:
            svc.start()
    try:
        for svc in stack.processes:
            if svc is not second:
                svc.wait_ready(90)
        observations, expected = observations_and_expected_changes()
        half = len(observations) // 2
        auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
        r = httpx.post(f"{stack.url('ingest')}/v1/observations/batch", json={"observations": observations[:half]},
                       headers=auth, timeout=30)
        assert r.status_code in (200, 201), r.text
        wait_for(lambda: metric(first, "consumer_messages_total", topic=observations_topic,
                                outcome="processed") >= half, 60, "the first replica to handle the first half")
        # The second member joins: the first gives up its partitions and dies right there, before it rejoins.
        second.start()
        first.wait_fault("consumer.partitions_revoked")
        r = httpx.post(f"{stack.url('ingest')}/v1/observations/batch", json={"observations": observations[half:]},
                       headers=auth, timeout=30)
        assert r.status_code in (200, 201), r.text
        second.wait_ready(60)
        wait_for(lambda: metric(second, "consumer_assigned_partitions", topic=observations_topic) == PARTITIONS,
                 60, "the second replica to take every partition of the dead one")
        _restart(first)  # and back: a rebalance once more, now without a crash
        idle = Idleness(stack, urls)
        idle_of.append(idle)
        idle.wait(90)
        deviations = Deviations(broker.bootstrap, f"{topic_prefix}.deviations")
        events = deviations.poll()
        wanted = {t for targets in expected.values() for t in targets}
        wait_for(lambda: len(deviations.poll()) >= len(wanted), 30, "every status change to be read back")
        events = deviations.poll()
    finally:
        if deviations is not None:
            deviations.consumer.close()
        stack.stop()
    ids = [event_id for event_id, _ in events]
    assert len(ids) == len(set(ids)), "a status change was published twice"
    assert sorted(d.target_id for _, d in events) == sorted(wanted), "each expected change exactly once"
    assert scalar(urls["evaluator"], "SELECT count(*) FROM evaluations") == scalar(
        urls["evaluator"], "SELECT count(DISTINCT observation_id) FROM evaluations")
    assert scalar(urls["evaluator"], "SELECT count(DISTINCT observation_id) FROM evaluations") == len(observations)
