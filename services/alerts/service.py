"""The alerts service's use cases called by the HTTP API; the route owns the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Row

from services.alerts.adapters.tables import alerts, delivery_attempts, notifications, silences


class NotFound(LookupError):
    """No such alert, silence or notification."""


class Conflict(ValueError):
    """The request does not fit the current state."""


def acknowledge(conn: Connection, alert_id: str, *, by: str, explanation: str, measures: str,
                now: datetime) -> Row:
    """firing → acknowledged, with the department's explanation and 整改措施; stops reminders and escalation."""
    row = conn.execute(select(alerts.c.status).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    if row.status == "resolved":
        raise Conflict(f"alert {alert_id!r} is resolved: the target recovered, nothing to acknowledge")
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(
        status="acknowledged", acknowledged_at=now, acknowledged_by=by, ack_explanation=explanation,
        ack_measures=measures, updated_at=now))
    return conn.execute(select(alerts).where(alerts.c.id == alert_id)).one()


def create_silence(conn: Connection, *, target_id: str | None, department: str | None, severity: str | None,
                   starts_at: datetime, ends_at: datetime, owner: str, reason: str, created_by: str,
                   now: datetime) -> Row:
    """A new silence."""
    sid = uuid.uuid4().hex
    conn.execute(silences.insert().values(id=sid, target_id=target_id, department=department, severity=severity,
                                          starts_at=starts_at, ends_at=ends_at, owner=owner, reason=reason,
                                          created_by=created_by, created_at=now))
    return conn.execute(select(silences).where(silences.c.id == sid)).one()


def expire_silence(conn: Connection, silence_id: str, now: datetime) -> Row:
    """End a silence now (kept for the record)."""
    row = conn.execute(select(silences).where(silences.c.id == silence_id)).first()
    if row is None:
        raise NotFound(f"no silence {silence_id!r}")
    conn.execute(update(silences).where(silences.c.id == silence_id, silences.c.ends_at > now)
                 .values(ends_at=now))
    return conn.execute(select(silences).where(silences.c.id == silence_id)).one()


def resend(conn: Connection, notification_id: int, *, by: str, now: datetime) -> Row:
    """Queue a dead (or permanently failed) notification again, with the same idempotency key."""
    n = notifications
    row = conn.execute(select(n.c.status, n.c.attempts).where(n.c.id == notification_id)).first()
    if row is None:
        raise NotFound(f"no notification {notification_id}")
    if row.status not in ("dead", "failed"):
        raise Conflict(f"notification {notification_id} is {row.status}: only dead or failed ones are re-sent")
    conn.execute(update(n).where(n.c.id == notification_id).values(status="pending", attempts=0,
                                                                    next_attempt_at=now))
    conn.execute(delivery_attempts.insert().values(notification_id=notification_id, attempt=0, at=now,
                                                   outcome="resent", http_status=None, error=f"re-sent by {by}",
                                                   duration_ms=0))
    return conn.execute(select(n).where(n.c.id == notification_id)).one()
