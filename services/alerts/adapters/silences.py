"""Silences: created, expired and read in force."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from services.alerts.adapters.tables import silences
from services.alerts.domain.silences import Silence


class SilenceRepository:
    """Reads and writes the ``silences`` table in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def transaction(self) -> object:
        """What identifies the caller's transaction (silences are cached for one)."""
        return self.conn.get_transaction()

    def active(self, now: datetime) -> list[Silence]:
        """Silences in force now."""
        s = silences
        rows = self.conn.execute(select(s.c.id, s.c.target_id, s.c.department, s.c.severity, s.c.starts_at,
                                        s.c.ends_at).where(s.c.ends_at > now, s.c.starts_at <= now)).all()
        return [Silence(r.id, r.target_id, r.department, r.severity, r.starts_at, r.ends_at) for r in rows]

    def create(self, *, target_id: str | None, department: str | None, severity: str | None, starts_at: datetime,
               ends_at: datetime, owner: str, reason: str, created_by: str, now: datetime) -> Row[Any]:
        """A new silence."""
        sid = uuid.uuid4().hex
        self.conn.execute(silences.insert().values(id=sid, target_id=target_id, department=department,
                                                   severity=severity, starts_at=starts_at, ends_at=ends_at,
                                                   owner=owner, reason=reason, created_by=created_by,
                                                   created_at=now))
        return self.conn.execute(select(silences).where(silences.c.id == sid)).one()

    def get(self, silence_id: str) -> Row[Any] | None:
        """One silence."""
        return self.conn.execute(select(silences).where(silences.c.id == silence_id)).first()

    def expire(self, silence_id: str, now: datetime) -> None:
        """End a silence now, unless it already ended."""
        self.conn.execute(update(silences).where(silences.c.id == silence_id, silences.c.ends_at > now)
                          .values(ends_at=now))

    def search(self, *, active: bool | None, now: datetime, limit: int) -> list[Row[Any]]:
        """Silences newest first, optionally only those in force (or not)."""
        q = select(silences).order_by(silences.c.created_at.desc())
        if active is True:
            q = q.where(silences.c.starts_at <= now, silences.c.ends_at > now)
        elif active is False:
            q = q.where((silences.c.starts_at > now) | (silences.c.ends_at <= now))
        return list(self.conn.execute(q.limit(limit)))
