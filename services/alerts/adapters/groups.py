"""Alert parts waiting to be grouped (``notification_items``) and when each receiver's last group left."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from services.alerts.adapters.tables import notification_items, receiver_groups

it = notification_items


class ClaimLost(RuntimeError):
    """Another transaction grouped some of these parts first: roll back and read again."""


class GroupRepository:
    """Reads and writes waiting parts and receivers' group times in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, items: list[dict[str, Any]]) -> None:
        """Parts to group later."""
        if items:
            self.conn.execute(it.insert(), items)

    def oldest_waiting(self) -> dict[str, datetime]:
        """Per receiver with waiting parts, when its oldest part arrived."""
        oldest: dict[str, datetime] = {}
        for r in self.conn.execute(select(it.c.receiver, it.c.created_at).where(it.c.notification_id.is_(None))):
            if r.receiver not in oldest or r.created_at < oldest[r.receiver]:
                oldest[r.receiver] = r.created_at
        return oldest

    def last_flushed(self, receivers: list[str]) -> dict[str, datetime]:
        """When each receiver's previous group left."""
        rows = self.conn.execute(select(receiver_groups).where(receiver_groups.c.receiver.in_(receivers)))
        return {r.receiver: r.last_flushed_at for r in rows}

    def waiting(self, receiver: str) -> list[Row[Any]]:
        """The receiver's waiting parts, oldest first; on PostgreSQL locked until the transaction ends."""
        q = select(it).where(it.c.receiver == receiver, it.c.notification_id.is_(None)).order_by(it.c.id)
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return list(self.conn.execute(q))

    def claim(self, item_ids: list[int], notification_id: int) -> None:
        """Mark parts as grouped into a notification; ClaimLost when any was grouped meanwhile."""
        res = self.conn.execute(update(it).where(it.c.id.in_(item_ids), it.c.notification_id.is_(None))
                                .values(notification_id=notification_id))
        if res.rowcount != len(item_ids):
            raise ClaimLost(f"{len(item_ids) - res.rowcount} of {len(item_ids)} parts were grouped by another replica")

    def flushed(self, receiver: str, now: datetime, known: bool) -> None:
        """Record that a group left for ``receiver`` now."""
        if known:
            self.conn.execute(update(receiver_groups).where(receiver_groups.c.receiver == receiver)
                              .values(last_flushed_at=now))
        else:
            self.conn.execute(receiver_groups.insert().values(receiver=receiver, last_flushed_at=now))

    def first_waiting_since(self) -> datetime | None:
        """When the oldest waiting part arrived (None when none waits)."""
        return self.conn.execute(select(it.c.created_at).where(it.c.notification_id.is_(None))
                                 .order_by(it.c.id).limit(1)).scalar()
