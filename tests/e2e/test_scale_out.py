"""Two evaluator replicas in one consumer group share the work by indicator and lose or repeat nothing,
even when one of them is killed half-way (its partitions and, if it had it, the relay lock move over)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from devstack.broker import TansuBroker
from devstack.idle import wait_idle
from devstack.stack import SERVICES, ServiceProcess, Stack
from services.evaluator.domain.evaluation import Reading, evaluate
from shared.catalogue import load_catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Frequency, Kind, Measure
from shared.messages import ObservationStatus, Severity, TargetStatusChanged, decode
from shared.periods import Period

pytestmark = pytest.mark.e2e
CATALOGUE = load_catalogue()
PARTITIONS = 6
# Tansu: every group join waits ceil(session_timeout_ms / 2000) s; 2000 ms is for tests on Tansu only.
GROUP_ENV = {"EVALUATOR_KAFKA_SESSION_TIMEOUT_MS": "2000", "EVALUATOR_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
             "EVALUATOR_TOPIC_PARTITIONS": str(PARTITIONS)}
PERIOD = {Frequency.MONTHLY: "2024-M03", Frequency.QUARTERLY: "2024-Q1", Frequency.HALF_YEARLY: "2024-S1",
          Frequency.ANNUAL: "2024"}


def observations_and_expected_changes() -> tuple[list[dict[str, object]], dict[str, set[str]]]:
    """One low first figure per indicator whose targets depend on it alone, and the targets it should put
    at warning or critical (by the evaluator's own rules), per indicator."""
    relational = {i for t in CATALOGUE.targets.values() if t.kind == Kind.RELATIONAL
                  for i in (t.indicator, t.params.get("related_indicator"))}
    observations, expected = [], {}
    for ind in CATALOGUE.indicators.values():
        targets = [t for t in CATALOGUE.targets_for_indicator(ind.id) if t.kind in QUANTITATIVE_KINDS]
        if ind.id in relational or not targets or targets[0].value is None:
            continue
        first = targets[0]
        measure = first.measure
        pct = measure in (Measure.YOY_PCT, Measure.CUMULATIVE_YOY_PCT)
        value = round(first.value - 3, 2) if pct else round(first.value * 0.02, 2)
        if not pct and ind.min_value is not None:
            value = max(value, ind.min_value)
        period = Period.parse(PERIOD[ind.frequency])
        reading = Reading(value, period, ObservationStatus.PROVISIONAL)
        expected[ind.id] = {t.id for t in targets
                            if t.measure == measure and evaluate(t, reading).severity != Severity.OK}
        observations.append({"indicator": ind.id, "period": period.code, "measure": measure.value, "value": value,
                             "unit": "%" if pct else ind.unit, "status": "provisional"})
    return observations, expected


def metric(process: ServiceProcess, name: str, **labels: str) -> float:
    """Sum of a metric's samples on one replica's /metrics whose labels include ``labels``."""
    total = 0.0
    for line in httpx.get(f"{process.url}/metrics", timeout=5).text.splitlines():
        if line.startswith((name + "{", name + " ")) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_for(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


class Deviations:
    """Reads every status change published to the deviations topic, from the beginning."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                      auto_offset_reset="earliest", fetch_max_wait_ms=20)
        self.consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        self.events: list[tuple[str, TargetStatusChanged]] = []

    def poll(self) -> list[tuple[str, TargetStatusChanged]]:
        for records in self.consumer.poll(timeout_ms=200).values():
            for rec in records:
                env = decode(rec.value)
                data = env.payload()
                assert isinstance(data, TargetStatusChanged)
                assert rec.key.decode() == data.indicator  # keyed by indicator
                self.events.append((env.id, data))
        return self.events


@pytest.fixture
def stack(tmp_path: Path, db_factory, broker: TansuBroker, topic_prefix: str):
    s = Stack(
        data_dir=tmp_path / "stack",
        broker=broker,
        topic_prefix=topic_prefix,
        database_urls={name: db_factory() for name in SERVICES},
        replicas={"evaluator": 2},
        extra_env={"evaluator": GROUP_ENV, "ingest": {"INGEST_TOPIC_PARTITIONS": str(PARTITIONS)},
                   "alerts": {"ALERTS_WEBHOOK_SECRET": "scale-out-test", "ALERTS_TOPIC_PARTITIONS": str(PARTITIONS),
                              "ALERTS_WEBHOOK_URLS": json.dumps({})}},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_two_evaluators_share_the_partitions_and_publish_each_change_exactly_once(
    stack: Stack, broker: TansuBroker, topic_prefix: str
) -> None:
    first, second = stack.replicas_of("evaluator")
    observations_topic = f"{topic_prefix}.observations"

    def assigned(p: ServiceProcess) -> float:
        return metric(p, "consumer_assigned_partitions", topic=observations_topic)

    # Both replicas get partitions, and together all of them, once the group has settled.
    wait_for(lambda: assigned(first) > 0 and assigned(second) > 0 and assigned(first) + assigned(second) == PARTITIONS,
             30, "the two replicas to split the partitions")

    observations, expected = observations_and_expected_changes()
    assert len(observations) >= 30 and sum(map(len, expected.values())) >= 20
    half = len(observations) // 2
    ingest = stack.url("ingest")
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key()}"}
    r = httpx.post(f"{ingest}/v1/observations/batch", json={"observations": observations[:half]}, headers=auth,
                   timeout=30)
    assert r.status_code in (200, 201), r.text

    # Nothing lost or handled twice while both run: every observation processed once, by one of them.
    def processed(p: ServiceProcess) -> float:
        return metric(p, "consumer_messages_total", topic=observations_topic, outcome="processed")

    wait_for(lambda: processed(first) + processed(second) >= half, 60, "the first half to be processed")
    assert processed(first) + processed(second) == half
    assert processed(first) > 0 and processed(second) > 0, "one replica did all the work"

    deviations = Deviations(broker.bootstrap, f"{topic_prefix}.deviations")
    first_half = {t for o in observations[:half] for t in expected[str(o["indicator"])]}
    wait_for(lambda: {d.target_id for _, d in deviations.poll()} >= first_half, 60, "the first half's changes")

    # Kill one replica mid-stream: the other takes its partitions (and the relay lock if it held it).
    second.kill()
    r = httpx.post(f"{ingest}/v1/observations/batch", json={"observations": observations[half:]}, headers=auth,
                   timeout=30)
    assert r.status_code in (200, 201), r.text
    wanted = {t for targets in expected.values() for t in targets}
    wait_for(lambda: {d.target_id for _, d in deviations.poll()} >= wanted, 90, "every expected change")
    wait_idle(stack)  # every outbox sent and every offset committed: a duplicate would be on the topic now
    events = deviations.poll()
    deviations.consumer.close()

    ids = [event_id for event_id, _ in events]
    assert len(ids) == len(set(ids)), "an event was published twice"
    targets = [d.target_id for _, d in events]
    assert sorted(targets) == sorted(wanted), "each expected status change exactly once, nothing else"
    # The gauge is refreshed at most once a second (shared/consumer.py, _update_lag): read it until it has been.
    wait_for(lambda: assigned(first) == PARTITIONS, 10, "the survivor to report every partition as its own")
