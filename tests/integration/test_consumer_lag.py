"""Consumer lag per partition is right on the real broker, and a replica stops reporting partitions it lost.

Tansu's ListOffsets is wrong after a multi-record batch (docs/kafka.md), so lag comes from highwater().
"""

from __future__ import annotations

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine

from devstack.broker import TansuBroker
from services.evaluator.adapters.tables import processed_events
from shared.consumer import ConsumerLoop
from shared.inbox import Inbox
from shared.kafka import ensure_topics
from shared.metrics import CommonMetrics
from shared.settings import ServiceSettings


def _loop(metrics: CommonMetrics, topic: str) -> ConsumerLoop:
    return ConsumerLoop(
        name="lag-test", inbox=Inbox(create_engine("sqlite://"), processed_events),
        consumer_factory=lambda: None, dead_letter_producer_factory=lambda: None,  # type: ignore[arg-type,return-value]
        topics=[topic], handler=lambda *_: None, metrics=metrics,
    )


def _gauge(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_lag_counts_the_messages_behind_the_high_watermark(broker: TansuBroker, topic_prefix: str) -> None:
    topic = f"{topic_prefix}.lag"
    settings = ServiceSettings(database_url="sqlite://", kafka_bootstrap_servers=broker.bootstrap, topic_partitions=2)
    ensure_topics(settings, [topic])
    # One multi-record batch per partition: the case where end_offsets() misleads on Tansu.
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50, batch_size=262144)
    for i in range(30):
        producer.send(topic, value=b"x", partition=0 if i < 20 else 1)
    producer.flush()
    producer.close()

    registry = CollectorRegistry()
    metrics = CommonMetrics(registry, "test")
    loop = _loop(metrics, topic)
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", fetch_max_wait_ms=20)
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer.assign([p0, p1])
    consumer.seek(p0, 5)
    consumer.seek(p1, 0)
    # poll until the fetch has returned the high watermarks of both partitions
    for _ in range(50):
        consumer.poll(timeout_ms=100, max_records=1)
        if consumer.highwater(p0) is not None and consumer.highwater(p1) is not None:
            break
    consumer.seek(p0, 5)
    consumer.seek(p1, 0)
    loop._update_lag(consumer)
    assert _gauge(registry, "consumer_lag_messages", topic=topic, partition="0") == 15
    assert _gauge(registry, "consumer_lag_messages", topic=topic, partition="1") == 10
    assert _gauge(registry, "consumer_assigned_partitions", topic=topic) == 2

    # After a rebalance takes partition 1 away, this replica no longer reports it.
    consumer.assign([p0])
    consumer.seek(p0, 5)
    loop._lag_updated = 0.0  # the loop refreshes lag at most once a second
    loop._update_lag(consumer)
    assert _gauge(registry, "consumer_lag_messages", topic=topic, partition="0") == 15
    assert _gauge(registry, "consumer_lag_messages", topic=topic, partition="1") is None
    assert _gauge(registry, "consumer_assigned_partitions", topic=topic) == 1
    consumer.close()
