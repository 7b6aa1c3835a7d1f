"""The consumer side of "nothing twice": every processed event id is recorded with the handler's writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Column, MetaData, String, Table, delete, select
from sqlalchemy.engine import Connection

from shared.db import UTCDateTime


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
    # Chunks keep the IN list within SQLite's and PostgreSQL's parameter limits.
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        found.update(conn.execute(select(table.c.event_id).where(table.c.event_id.in_(chunk))).scalars())
    return found


def mark_processed(conn: Connection, table: Table, events: list[tuple[str, str]], now: datetime) -> None:
    """Record (event id, type) pairs as processed in ``conn``'s transaction."""
    if events:
        conn.execute(
            table.insert(), [{"event_id": i, "event_type": t, "processed_at": now} for i, t in events]
        )


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
