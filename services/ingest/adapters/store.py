"""Ingest's database as its routes see it: a transaction (unit of work) holding the repositories and the outbox.

The entry point (a route, the operator's command) opens the transaction and owns its outcome; use cases
write through the repositories it hands them. A unique key broken by a concurrent writer surfaces as
:class:`WriteConflict`, which the caller retries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from services.ingest.adapters.idempotency import SqlIdempotency
from services.ingest.adapters.keys import SqlKeys
from services.ingest.adapters.observations import SqlObservations
from shared.db import ping
from shared.messages import EventData
from shared.outbox import Outbox


class WriteConflict(Exception):
    """A concurrent request wrote the same series vintage or Idempotency-Key first: retry to see its work."""


class OutboxEvents:
    """Events to publish, written to the outbox in the transaction's connection."""

    def __init__(self, conn: Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    def publish(self, events: Sequence[EventData], now: datetime) -> list[str]:
        """Queue events for the relay (they leave only if the transaction commits); returns their ids."""
        return self.outbox.add(self.conn, events, now)


class Transaction:
    """One database transaction with ingest's repositories."""

    def __init__(self, conn: Connection, outbox: Outbox) -> None:
        self.observations = SqlObservations(conn)
        self.keys = SqlKeys(conn)
        self.idempotency = SqlIdempotency(conn)
        self.events = OutboxEvents(conn, outbox)
        self._conn = conn
        self.rolled_back = False

    def rollback(self) -> None:
        """Undo everything written so far (a dry run); nothing is committed at the end."""
        self._conn.rollback()
        self.rolled_back = True


class IngestStore:
    """Opens transactions on ingest's database."""

    def __init__(self, engine: Engine, outbox: Outbox) -> None:
        self.engine = engine
        self.outbox = outbox

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction committed when the block ends (unless rolled back), rolled back when it raises."""
        try:
            with self.engine.connect() as conn:
                tx = Transaction(conn, self.outbox)
                conn.begin()
                try:
                    yield tx
                except BaseException:
                    conn.rollback()
                    raise
                if not tx.rolled_back:
                    conn.commit()
        except IntegrityError as exc:
            raise WriteConflict(str(exc.orig)) from exc

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A connection for reads only (rolled back at the end)."""
        with self.engine.connect() as conn:
            yield Transaction(conn, self.outbox)

    def ping(self) -> None:
        """Raise unless the database answers (a readiness check)."""
        ping(self.engine)
