"""The plumbing that loses nothing and repeats nothing, against a real broker and real databases."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from devstack.broker import TansuBroker, free_port
from services.evaluator.adapters.tables import outbox, processed_events
from services.evaluator.config import EvaluatorSettings
from shared.catalogue.model import Measure
from shared.consumer import ConsumerLoop
from shared.db import make_engine, run_migrations
from shared.kafka import ensure_topics, make_consumer, make_producer
from shared.messages import ObservationRecorded, ObservationStatus, encode, envelope_for
from shared.metrics import CommonMetrics
from shared.outbox import Outbox, OutboxRelay

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "evaluator" / "migrations"
NOW = datetime(2024, 4, 18, 9, 30, tzinfo=UTC)


def _settings(database_url: str, bootstrap: str, prefix: str) -> EvaluatorSettings:
    return EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers=bootstrap, topic_prefix=prefix,
                             topic_partitions=3, kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500)


def _obs(i: int, indicator: str = "gdp") -> ObservationRecorded:
    return ObservationRecorded(
        observation_id=f"o{i}", indicator=indicator, region="wuxi", period="2024-Q1",
        measure=Measure.CUMULATIVE_YOY_PCT, value=float(i), unit="%", status=ObservationStatus.PROVISIONAL,
        vintage=i + 1, submitted_by="test", recorded_at=NOW,
    )


def _read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    out: list = []
    deadline = time.monotonic() + timeout_s
    while len(out) < expected and time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=200).values():
            out.extend(recs)
    consumer.close()
    return out


def test_relay_publishes_outbox_rows_in_order_and_marks_them_sent(database_url, broker: TansuBroker,
                                                                   topic_prefix: str) -> None:
    settings = _settings(database_url, broker.bootstrap, topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    ensure_topics(settings, [f"{topic_prefix}.observations"])
    engine = make_engine(database_url)
    box = Outbox(outbox, source="/test", topic_prefix=topic_prefix)
    with engine.begin() as conn:
        ids = box.add(conn, [_obs(i, indicator=("gdp", "cpi")[i % 2]) for i in range(40)], NOW)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "t"), CommonMetrics(CollectorRegistry(), "t"),
                        batch_size=15)
    assert relay.publish_pending() == 15
    assert relay.publish_pending() == 15
    assert relay.publish_pending() == 10
    assert relay.publish_pending() == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar() == 0

    records = _read_all(broker.bootstrap, f"{topic_prefix}.observations", 40)
    assert sorted(r.value for r in records) == sorted(
        r for r in (engine.connect().execute(select(outbox.c.payload)).scalars())
    )
    by_key: dict[bytes, list[float]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_key.setdefault(r.key, []).append(__import__("json").loads(r.value)["data"]["value"])
    assert by_key[b"gdp"] == sorted(by_key[b"gdp"]) and by_key[b"cpi"] == sorted(by_key[b"cpi"])
    assert len(ids) == 40
    engine.dispose()
    relay._reset_producer()


def test_relay_keeps_rows_while_the_broker_is_away(database_url, topic_prefix: str, tmp_path: Path) -> None:
    port = free_port()
    settings = _settings(database_url, f"127.0.0.1:{port}", topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        Outbox(outbox, source="/t", topic_prefix=topic_prefix).add(conn, [_obs(1), _obs(2)], NOW)
    relay = OutboxRelay(engine, outbox, lambda: make_producer(settings, "t"), CommonMetrics(CollectorRegistry(), "t"))
    try:
        relay.publish_pending()
        raise AssertionError("publishing without a broker must fail")
    except Exception as exc:
        assert not isinstance(exc, AssertionError)
    relay._reset_producer()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(outbox.c.sent_at.is_(None))).scalar() == 2

    late = TansuBroker(port=port, log_path=tmp_path / "late.log")
    late.start()
    try:
        ensure_topics(settings, [f"{topic_prefix}.observations"])
        deadline = time.monotonic() + 20
        published = 0
        while published < 2 and time.monotonic() < deadline:
            try:
                published += relay.publish_pending()
            except Exception:
                relay._reset_producer()
                time.sleep(0.5)
        assert published == 2
        assert len(_read_all(late.bootstrap, f"{topic_prefix}.observations", 2)) == 2
    finally:
        relay._reset_producer()
        late.stop()
        engine.dispose()


def test_consumer_handles_each_event_once_and_dead_letters_the_unreadable(database_url, broker: TansuBroker,
                                                                          topic_prefix: str) -> None:
    settings = _settings(database_url, broker.bootstrap, topic_prefix)
    run_migrations(database_url, MIGRATIONS)
    topic = f"{topic_prefix}.observations"
    ensure_topics(settings, [topic, f"{topic}.dlq"])
    producer = make_producer(settings, "t")
    envelopes = [envelope_for(_obs(i), source="/t", time=NOW) for i in range(5)]
    for env in envelopes + envelopes[:2]:  # the first two delivered twice, as after a producer retry
        producer.send(topic, key=b"gdp", value=encode(env))
    producer.send(topic, key=b"gdp", value=b"{broken")
    producer.flush()
    producer.close()

    engine = make_engine(database_url)
    handled: list[str] = []

    def run_group(group: str) -> None:
        metrics = CommonMetrics(CollectorRegistry(), "t")
        loop = ConsumerLoop(
            name=group, engine=engine, inbox=processed_events,
            consumer_factory=lambda: make_consumer(settings, group, "t"),
            dead_letter_producer_factory=lambda: make_producer(settings, "t-dlq"),
            topics=[topic], handler=lambda conn, env, data: handled.append(env.id), metrics=metrics,
        )
        stop = threading.Event()
        t = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        t.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and metrics.consumer_messages.labels(topic, "invalid")._value.get() < 1:
            time.sleep(0.1)
        time.sleep(1.0)
        stop.set()
        t.join(10)
        assert loop.crashed is None

    run_group("g1")
    assert sorted(handled) == sorted(e.id for e in envelopes)
    # A second group re-reads everything (as after lost offsets): the inbox makes it a no-op.
    run_group("g2")
    assert sorted(handled) == sorted(e.id for e in envelopes)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(processed_events)).scalar() == 5
    dead = _read_all(broker.bootstrap, f"{topic}.dlq", 2)
    assert [d.value for d in dead] == [b"{broken", b"{broken"]  # once per group that met it
    assert dict(dead[0].headers)["dlq-reason"].startswith(b"not a CloudEvents")
    engine.dispose()
