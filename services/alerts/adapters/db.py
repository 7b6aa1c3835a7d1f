"""The alerts service's unit of work: one connection, one transaction, and the repositories bound to it.

Routes and loops open a transaction here (the entry point owns it); the consumer loop hands its own
connection to the handler, which binds the same repositories to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from services.alerts.adapters.alerts import AlertRepository
from services.alerts.adapters.groups import GroupRepository
from services.alerts.adapters.notifications import NotificationRepository
from services.alerts.adapters.silences import SilenceRepository

Conn = Connection  # what the consumer loop hands a handler


@dataclass(frozen=True)
class Repositories:
    """The repositories of one transaction."""

    alerts: AlertRepository
    notifications: NotificationRepository
    silences: SilenceRepository
    groups: GroupRepository

    @classmethod
    def on(cls, conn: Connection) -> Repositories:
        """Repositories writing through ``conn`` (in its transaction)."""
        return cls(AlertRepository(conn), NotificationRepository(conn), SilenceRepository(conn), GroupRepository(conn))


class Database:
    """Opens transactions on the service's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Repositories]:
        """A read-write transaction, committed when the block ends without an exception."""
        with self.engine.begin() as conn:
            yield Repositories.on(conn)

    @contextmanager
    def read(self) -> Iterator[Repositories]:
        """A read-only connection."""
        with self.engine.connect() as conn:
            yield Repositories.on(conn)

    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name
