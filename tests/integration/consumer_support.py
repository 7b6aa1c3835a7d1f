"""Running a real consumer loop in a thread against the session's broker and a real database, for the tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from services.evaluator.adapters.tables import processed_events
from services.evaluator.config import EvaluatorSettings
from shared.catalogue.model import Measure
from shared.consumer import BatchHandler, ConsumerLoop, Handler
from shared.db import make_engine
from shared.inbox import Inbox
from shared.kafka import make_consumer, make_producer
from shared.messages import ObservationRecorded, ObservationStatus, encode, envelope_for
from shared.metrics import CommonMetrics

EVALUATOR_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "evaluator" / "migrations"
NOW = datetime(2024, 4, 18, 9, 30, tzinfo=UTC)


def settings(database_url: str, bootstrap: str, prefix: str, **kw: Any) -> EvaluatorSettings:
    """Settings for a test consumer: small partitions count, quick group joins (Tansu only)."""
    return EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,
                             topic_partitions=kw.pop("topic_partitions", 1), kafka_session_timeout_ms=2000,
                             kafka_heartbeat_interval_ms=500, **kw)


def obs(i: int, indicator: str = "gdp", **kw: Any) -> ObservationRecorded:
    """An ObservationRecorded numbered ``i``."""
    return ObservationRecorded(
        observation_id=kw.pop("observation_id", f"o{i}"), indicator=indicator, region="wuxi", period="2024-Q1",
        measure=Measure.CUMULATIVE_YOY_PCT, value=float(i), unit="%", status=ObservationStatus.PROVISIONAL,
        vintage=i + 1, submitted_by="test", recorded_at=NOW, **kw)


def produce(s: EvaluatorSettings, topic: str, values: list[bytes], key: bytes = b"gdp") -> None:
    """Send raw values to a topic and wait for the broker's acks."""
    producer = make_producer(s, "test-producer")
    for v in values:
        producer.send(topic, key=key, value=v)
    producer.flush()
    producer.close()


def events(n: int, start: int = 0) -> list[bytes]:
    """n encoded ObservationRecorded envelopes."""
    return [encode(envelope_for(obs(i), source="/t", time=NOW)) for i in range(start, start + n)]


def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list[Any]:
    """Every record of a topic, waiting until ``expected`` have arrived (or the timeout)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    deadline = time.monotonic() + timeout_s
    parts: list[TopicPartition] = []
    while not parts and time.monotonic() < deadline:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        if not parts:
            time.sleep(0.2)
    out: list[Any] = []
    if parts:
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        while len(out) < expected and time.monotonic() < deadline:
            for recs in consumer.poll(timeout_ms=200).values():
                out.extend(recs)
    consumer.close()
    return out


def wait_for(condition: Callable[[], bool], timeout_s: float = 30, what: str = "condition") -> None:
    """Wait until ``condition()`` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Running:
    """A consumer loop running in a thread, with its metrics."""

    def __init__(self, loop: ConsumerLoop, registry: CollectorRegistry, thread: threading.Thread) -> None:
        self.loop = loop
        self.registry = registry
        self.thread = thread

    def metric(self, name: str, **labels: str) -> float:
        """A metric's value (0 when absent)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def messages(self, topic: str, outcome: str) -> float:
        """consumer_messages_total for a topic and outcome."""
        return self.metric("consumer_messages_total", topic=topic, outcome=outcome)


@contextmanager
def consuming(s: EvaluatorSettings, topic: str, handler: Handler | BatchHandler, *, group: str,
              **kw: Any) -> Iterator[Running]:
    """Run a ConsumerLoop on ``topic`` with ``handler`` until the block ends; the loop must not have crashed."""
    registry = CollectorRegistry()
    engine = kw.pop("engine", None) or make_engine(s.database_url, busy_timeout_s=s.sqlite_busy_timeout_s)
    loop = ConsumerLoop(
        name=group, inbox=Inbox(engine, processed_events),
        consumer_factory=lambda: make_consumer(s, group, "t"),
        dead_letter_producer_factory=lambda: make_producer(s, "t-dlq"),
        topics=[topic], handler=handler, metrics=CommonMetrics(registry, "t"), **kw,
    )
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield Running(loop, registry, thread)
    finally:
        stop.set()
        thread.join(15)
        engine.dispose()
