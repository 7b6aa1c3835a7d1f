"""Wait until the stack has provably nothing left to do, so that counting afterwards counts everything (the tests and
the benchmarks).

Idle means: no unsent outbox row in any service, no notification pending or waiting for its group, and every
consumer group's committed offset at the end of each partition of its topic. The end is the high watermark
from a fetch response (``end_offsets()`` is wrong on Tansu, docs/kafka.md).
"""

from __future__ import annotations

import re
import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, text

from devstack.stack import Stack
from shared.db import normalise_url


def scalar(url: str, sql: str) -> int:
    """One integer from a database (a fresh engine: the services may be restarting)."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def alerts_backlog(url: str) -> dict[str, int]:
    """What an alerts database still has to do: items waiting for their group, notifications waiting to be sent
    (their time not come, in flight, or being retried)."""
    return {"ungrouped items": scalar(url, "SELECT count(*) FROM notification_items WHERE notification_id IS NULL"),
            "pending notifications": scalar(url, "SELECT count(*) FROM notifications WHERE status = 'pending'")}


def consumed_events(metrics: str, outcomes: tuple[str, ...] = ("processed", "duplicate")) -> float:
    """Events a process's consumer has finished with (by default handled, or dropped as a duplicate), from its
    /metrics."""
    return sum(float(n) for n in re.findall(
        rf'consumer_messages_total\{{[^}}]*outcome="(?:{"|".join(outcomes)})"[^}}]*\}} ([0-9.e+]+)', metrics))


def alerts_idle(metrics: str, url: str, events: int = 0) -> bool:
    """Whether an alerts process (its /metrics text) and its database have provably nothing left to send: at
    least ``events`` events consumed by the process, none of its notifications buffered, nothing waiting in the
    database (:func:`alerts_backlog`)."""
    done = consumed_events(metrics)
    buffered = re.search(r"^alerts_dispatcher_buffered_notifications ([0-9.]+)$", metrics, re.M)
    return (done >= events and (buffered is None or float(buffered.group(1)) == 0)
            and not any(alerts_backlog(url).values()))


class Idleness:
    """Reads the stack's backlog: outboxes, pending notifications, and each group's committed offsets."""

    def __init__(self, stack: Stack, urls: dict[str, str]) -> None:
        assert stack.broker is not None
        self.urls = urls
        prefix = stack.topic_prefix
        self.groups = {f"{prefix}-evaluator": f"{prefix}.observations", f"{prefix}-alerts": f"{prefix}.deviations"}
        self.admin = KafkaAdminClient(bootstrap_servers=stack.broker.bootstrap)
        self.reader = KafkaConsumer(bootstrap_servers=stack.broker.bootstrap, enable_auto_commit=False,
                                    fetch_max_wait_ms=20)

    def backlog(self) -> dict[str, int]:
        """What is still to be done, by place (all zero when idle).

        Read in the direction work flows, so that work moving on while it is read is seen further down.
        """
        out: dict[str, int] = {}
        for stage, (group, topic) in zip(("ingest", "evaluator"), self.groups.items(), strict=True):
            out[f"{stage} outbox"] = scalar(self.urls[stage], "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            out[f"{group} lag"] = self._lag(group, topic)
        out.update(alerts_backlog(self.urls["alerts"]))
        out["alerts outbox"] = scalar(self.urls["alerts"], "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return out

    def _lag(self, group: str, topic: str) -> int:
        parts = self.reader.partitions_for_topic(topic) or set()
        if not parts:
            return 1  # not even created yet
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        committed = {tp: (meta.offset if meta is not None and meta.offset >= 0 else 0)
                     for tp, meta in self.admin.list_group_offsets({group: tps}).get(group, {}).items()}
        self.reader.assign(tps)
        for tp in tps:
            self.reader.seek(tp, committed.get(tp, 0))
        self.reader.poll(timeout_ms=300)  # a fetch per partition brings its high watermark
        lag = 0
        for tp in tps:
            high = self.reader.highwater(tp)
            if high is None:
                return 1  # not known yet: not provably idle
            lag += max(0, high - committed.get(tp, 0))
        return lag

    def wait(self, timeout_s: float = 60.0) -> None:
        """Wait until every backlog is zero."""
        deadline = time.monotonic() + timeout_s
        last: dict[str, int] = {}
        while time.monotonic() < deadline:
            last = self.backlog()
            if not any(last.values()):
                return
            time.sleep(0.2)
        raise AssertionError(f"the pipeline did not become idle in {timeout_s}s: {last}")

    def close(self) -> None:
        """Close the Kafka clients."""
        self.reader.close()
        self.admin.close()


def wait_idle(stack: Stack, timeout_s: float = 90.0) -> None:
    """Wait until the stack (its own databases, ``stack.database_urls``) is provably idle."""
    idle = Idleness(stack, stack.database_urls)
    try:
        idle.wait(timeout_s)
    finally:
        idle.close()
