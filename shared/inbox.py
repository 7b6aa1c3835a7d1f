"""The consumer side of "nothing twice": every processed event id is recorded with the handler's writes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, MetaData, String, Table, delete, select
from sqlalchemy.engine import Connection

from shared.adapters.retention import Pruner
from shared.clock import Clock, utc_now
from shared.db import UTCDateTime, insert_rows, one_of
from shared.metrics import CommonMetrics


def inbox_table(metadata: MetaData) -> Table:
    """The processed-events table, in the service's own metadata (and its own migrations)."""
    return Table(
        "processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", UTCDateTime, nullable=False),
    )


def already_processed(conn: Connection, table: Table, event_ids: Iterable[str]) -> set[str]:
    """Which of these event ids were processed before (in one query)."""
    ids = list(set(event_ids))
    if not ids:
        return set()
    found: set[str] = set()
    # Chunks keep the IN list within SQLite's parameter limit (one array parameter on PostgreSQL: one_of).
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        found.update(conn.execute(select(table.c.event_id).where(one_of(conn, table.c.event_id, chunk))).scalars())
    return found


def mark_processed(conn: Connection, table: Table, events: list[tuple[str, str]], now: datetime) -> None:
    """Record (event id, type) pairs as processed in ``conn``'s transaction."""
    # By COPY on PostgreSQL for a large batch (insert_rows): the executemany was a fifth of the evaluator's time.
    insert_rows(conn, table, [{"event_id": i, "event_type": t, "processed_at": now} for i, t in events])


def prune_processed(conn: Connection, table: Table, before: datetime, limit: int = 1000) -> int:
    """Forget up to ``limit`` event ids processed before ``before``; returns how many were deleted.

    Safe once the topics no longer hold those events (see ``PROCESSED_EVENTS_RETENTION_H`` in docs/kafka.md):
    an event older than the topic's retention cannot be delivered again. Callers delete in chunks, one short
    transaction each, so that pruning never holds SQLite's write lock for long.
    """
    ids = list(conn.execute(select(table.c.event_id).where(table.c.processed_at < before).limit(limit)).scalars())
    if ids:
        conn.execute(delete(table).where(table.c.event_id.in_(ids)))
    return len(ids)


class Inbox:
    """A service's processed-events table and its database: the consumer loop's only way to the database.

    ``transaction()`` opens the unit of work a batch is handled in; the event ids are checked and recorded
    in it, with the handler's writes.
    """

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self.engine.begin() as conn:
            yield conn

    def already_processed(self, conn: Connection, event_ids: Iterable[str]) -> set[str]:
        """Which of these event ids were processed before, in ``conn``'s transaction."""
        return already_processed(conn, self.table, event_ids)

    def mark_processed(self, conn: Connection, events: list[tuple[str, str]], now: datetime) -> None:
        """Record (event id, type) pairs as processed in ``conn``'s transaction."""
        mark_processed(conn, self.table, events, now)

    def recorded(self, event_id: str) -> bool:
        """Whether ``event_id`` is recorded as processed (read outside any batch's transaction)."""
        with self.engine.connect() as conn:
            return bool(already_processed(conn, self.table, [event_id]))

    def pruner(self, retention: timedelta, metrics: CommonMetrics, *, clock: Clock = utc_now) -> Pruner:
        """What forgets the event ids processed longer ago than ``retention``, now and then."""
        return Pruner(self.engine, self.table.name,
                      lambda conn, before, n: prune_processed(conn, self.table, before, n),
                      retention, metrics, clock=clock)
