"""Dead-letter topics: where a consumer sets aside a message it can never process, with the reason.

A dead-lettered message keeps its key and value; headers say where it came from and why, so that an
operator can read it and re-drive it onto its topic once the cause is fixed (``python -m shared.redrive``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from shared.kafka import DEAD_LETTER_SUFFIX

log = logging.getLogger(__name__)

REASON = "dlq-reason"  # why it was set aside (at most 1000 characters)
TOPIC = "dlq-topic"  # the topic it was read from, where a re-drive puts it back
PARTITION = "dlq-partition"
OFFSET = "dlq-offset"
CONSUMER = "dlq-consumer"  # the consumer loop that set it aside

# Creates the topics that are missing; returns those it created (shared.kafka.topic_creator).
EnsureTopics = Callable[[list[str]], list[str]]


def dead_letter_topic(topic: str) -> str:
    """The dead-letter topic of a topic: ``<topic>.dlq``."""
    return f"{topic}.{DEAD_LETTER_SUFFIX}"


def source_topic(dead_letter: str) -> str:
    """The topic a dead-letter topic collects for (``wuxi.observations.dlq`` → ``wuxi.observations``)."""
    suffix = f".{DEAD_LETTER_SUFFIX}"
    if not dead_letter.endswith(suffix):
        raise ValueError(f"{dead_letter!r} is not a dead-letter topic (…{suffix})")
    return dead_letter[: -len(suffix)]


class DeadLetters:
    """Sends records to their dead-letter topic; recreates the producer (and the topic) after a failure."""

    def __init__(self, consumer: str, producer_factory: Callable[[], KafkaProducer],
                 ensure_topics: EnsureTopics | None = None) -> None:
        self.consumer = consumer
        self.producer_factory = producer_factory
        self.ensure_topics = ensure_topics
        self._producer: KafkaProducer | None = None

    def send(self, record: Any, reason: str) -> None:
        """Dead-letter one consumed record (waits for the broker's ack; raises KafkaError when it fails)."""
        topic = dead_letter_topic(record.topic)
        log.error("%s: dead-lettering %s[%s]@%s: %s", self.consumer, record.topic, record.partition,
                  record.offset, reason)
        # The record's own headers stay (its CloudEvents content-type), followed by where it came from and why.
        headers = [*(getattr(record, "headers", None) or []), (REASON, reason[:1000].encode()),
                   (TOPIC, record.topic.encode()),
                   (PARTITION, str(record.partition).encode()), (OFFSET, str(record.offset).encode()),
                   (CONSUMER, self.consumer.encode())]
        try:
            if self._producer is None:
                # A broker that restarted empty lost the dead-letter topic too, and producers never create one.
                if self.ensure_topics is not None:
                    self.ensure_topics([topic])
                self._producer = self.producer_factory()
            self._producer.send(topic, key=record.key, value=record.value, headers=headers).get(timeout=30)
        except KafkaError:
            self.close()
            raise

    def close(self) -> None:
        """Close the producer; the next send makes a new one."""
        if self._producer is not None:
            with contextlib.suppress(KafkaError):
                self._producer.close(timeout=2)
            self._producer = None
