"""Kafka clients (kafka-python only), configured as found working on Tansu and Apache Kafka (docs/kafka.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = "dlq"
# The CloudEvents Kafka binding: a structured-mode event (the whole event as JSON in the value) says so in the
# content-type header; without it SDKs and Knative read the message as binary mode. Every send sets it.
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
STRUCTURED_MODE_HEADERS: list[tuple[str, bytes]] = [("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())]
# Apache Kafka's default message.max.bytes is ~1 MB; Tansu has no limit, so the client enforces it.
MAX_REQUEST_SIZE = 1_048_576


def topic_name(settings: ServiceSettings, topic: str) -> str:
    """The full topic name: ``<prefix>.<topic>``."""
    return f"{settings.topic_prefix}.{topic}"


def _bootstrap(settings: ServiceSettings) -> list[str]:
    return [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]


def make_producer(settings: ServiceSettings, client_id: str) -> KafkaProducer:
    """An idempotent producer with acks=all, batching and zstd compression."""
    producer = KafkaProducer(
        bootstrap_servers=_bootstrap(settings),
        client_id=settings.kafka_client_id or client_id,
        acks="all",
        enable_idempotence=True,
        compression_type="zstd",
        batch_size=262_144,
        linger_ms=5,
        max_request_size=MAX_REQUEST_SIZE,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
        max_block_ms=5_000,  # fail fast when the broker is away; the relay retries the round
        bootstrap_timeout_ms=5_000,
        reconnect_backoff_max_ms=2_000,
    )
    # kafka-python 3.0.12 ignores allow_auto_create_topics=False in the constructor (docs/kafka.md);
    # topics are created explicitly by ensure_topics, so a typo must fail rather than create one.
    producer._metadata.config["allow_auto_create_topics"] = False
    return producer


def make_consumer(settings: ServiceSettings, group_id: str, client_id: str) -> KafkaConsumer:
    """A group consumer that never auto-commits: offsets are committed after the database commit."""
    consumer = KafkaConsumer(
        bootstrap_servers=_bootstrap(settings),
        client_id=settings.kafka_client_id or client_id,
        group_id=group_id,
        enable_auto_commit=False,
        # "latest" is unreliable on Tansu (wrong end offsets); a new group starts from the beginning and
        # the idempotent handlers skip what they have already seen.
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_interval_ms=60_000,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        max_poll_records=500,
        allow_auto_create_topics=False,
        reconnect_backoff_max_ms=2_000,
        bootstrap_timeout_ms=10_000,
        # A group that formed while its topic was missing (a broker that restarted empty) gets partitions once
        # the metadata shows the re-created topic: within 10 s, not kafka-python's default 5 minutes.
        metadata_max_age_ms=10_000,
    )
    # Unlike the producer's, the consumer's metadata requests may create a topic on Tansu (kafka-python ignores
    # allow_auto_create_topics=False): after a broker loss that brings a subscribed topic back at once, with
    # Tansu's 4 partitions, and the group gets it without waiting. Apache Kafka refuses (automatic creation is
    # off on the broker), and the loops re-create their topics themselves (docs/kafka.md).
    return consumer


def ensure_topics(settings: ServiceSettings, topics: list[str], *, timeout_s: float = 30.0) -> list[str]:
    """Create the given (full-name) topics when absent, with the configured partition count; returns those created.

    Waits up to ``timeout_s`` for the broker, so services can start before it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=_bootstrap(settings),
                client_id=f"{settings.kafka_client_id or 'wuxi'}-admin",
                request_timeout_ms=10_000,
                bootstrap_timeout_ms=5_000,
            )
            break
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("waiting for Kafka at %s: %s", settings.kafka_bootstrap_servers, exc)
            time.sleep(0.5)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            new = [
                NewTopic(t, num_partitions=settings.topic_partitions,
                         replication_factor=settings.topic_replication_factor)
                for t in missing
            ]
            try:
                admin.create_topics(new)
                log.info("created topics %s with %d partitions", missing, settings.topic_partitions)
            except TopicAlreadyExistsError:
                return []  # another replica created it first
        return missing
    finally:
        admin.close()


def topic_creator(settings: ServiceSettings, timeout_s: float = 2.0) -> Callable[[list[str]], list[str]]:
    """``ensure_topics`` for background loops: they call it after a failure, and retry when it raises."""

    def ensure(topics: list[str]) -> list[str]:
        return ensure_topics(settings, topics, timeout_s=timeout_s)

    return ensure


def broker_reachable(settings: ServiceSettings, timeout_s: float = 1.0) -> None:
    """Raise unless a TCP connection to one of the bootstrap servers succeeds (a readiness check)."""
    import socket

    errors = []
    for server in _bootstrap(settings):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
                return
        except OSError as exc:
            errors.append(f"{server}: {exc}")
    raise ConnectionError("no Kafka broker reachable: " + "; ".join(errors))
