"""The delivery queue and its log: notifications (one per receiver) and every attempt to deliver them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from services.alerts.adapters.tables import delivery_attempts, notification_items, notifications
from services.alerts.domain.model import GIVEN_UP, AttemptOutcome, DeliveryStatus
from shared.db import insert_rows, one_of
from shared.messages import EventData
from shared.outbox import Outbox

n = notifications
_FINISHED = [s.value for s in (DeliveryStatus.SENT, DeliveryStatus.SUPPRESSED, DeliveryStatus.INHIBITED, *GIVEN_UP)]


class DuplicateKey(RuntimeError):
    """A notification with this idempotency key exists already (another replica queued it)."""


@dataclass(frozen=True)
class DueNotification:
    """A notification due for an attempt, as the dispatcher needs it."""

    id: int
    idempotency_key: str
    channel: str
    receiver: str
    payload: str
    attempts: int
    kind: str
    department: str
    alert_ids: str
    created_at: datetime
    retry_since: datetime
    matchers: tuple[tuple[str, str], ...]  # (target_id, severity) per alert, for silences at send time
    parts: str | None = None  # JSON of its alert parts (pipeline.part_doc), to merge a robot's backlog


@dataclass(frozen=True)
class Recorded:
    """What one attempt did to a notification: its new state and the delivery-log line."""

    notification_id: int
    attempt: int
    status: DeliveryStatus
    outcome: AttemptOutcome
    next_attempt_at: datetime
    error: str | None
    http_status: int | None
    duration_ms: int
    sent_at: datetime | None
    silence_id: str | None = None


_DUE_COLUMNS = (n.c.id, n.c.idempotency_key, n.c.channel, n.c.receiver, n.c.payload, n.c.attempts, n.c.kind,
                n.c.department, n.c.alert_ids, n.c.created_at, n.c.retry_since, n.c.matchers, n.c.parts)
_RECORD = (update(n).where(n.c.id == bindparam("_id")).values(
    status=bindparam("_status"), attempts=bindparam("_attempts"), next_attempt_at=bindparam("_next"),
    last_error=bindparam("_error"), sent_at=bindparam("_sent_at"), silence_id=bindparam("_silence_id")))


def matchers_json(pairs: Iterable[tuple[str, str]]) -> str:
    """The stored form of a notification's (target_id, severity) pairs."""
    return json.dumps([list(p) for p in dict.fromkeys(pairs)])


class NotificationRepository:
    """Reads and writes notifications and the delivery log in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Queue notifications (rows of the ``notifications`` table)."""
        insert_rows(self.conn, n, rows)  # by COPY on PostgreSQL for a large batch

    def add_one(self, row: dict[str, Any]) -> int:
        """Queue one notification; returns its id."""
        try:
            key = self.conn.execute(n.insert().values(**row)).inserted_primary_key
            assert key is not None
            return int(key[0])
        except IntegrityError as exc:
            raise DuplicateKey(f"idempotency key {row['idempotency_key']} is queued already") from exc

    def due(self, now: datetime, *, exclude: Sequence[int], limit: int,
            exclude_receivers: Sequence[str] = ()) -> list[DueNotification]:
        """Pending notifications whose next attempt is due, oldest first, leaving out the ids ``exclude`` and the
        receivers ``exclude_receivers`` (the dispatcher keeps both to a few thousand: its buffers are bounded)."""
        q = (select(*_DUE_COLUMNS).where(n.c.status == DeliveryStatus.PENDING.value, n.c.next_attempt_at <= now)
             .order_by(n.c.id).limit(limit))
        # SQLite binds one parameter per id (at most 32,766): past that the caller's own filter drops the known.
        if exclude and (self.conn.dialect.name == "postgresql" or len(exclude) <= 30_000):
            q = q.where(one_of(self.conn, n.c.id, exclude, negate=True))
        if exclude_receivers:
            q = q.where(one_of(self.conn, n.c.receiver, exclude_receivers, negate=True))
        return [DueNotification(r.id, r.idempotency_key, r.channel, r.receiver, r.payload, r.attempts, r.kind,
                                r.department, r.alert_ids, r.created_at, r.retry_since or r.created_at,
                                tuple((t, s) for t, s in json.loads(r.matchers or "[]")), r.parts)
                for r in self.conn.execute(q)]

    def record(self, batch: list[Recorded], *, outbox: Outbox | None = None,
               dead_letters: list[EventData] | None = None, now: datetime) -> None:
        """Store attempts' outcomes and log lines; dead letters go to the outbox in the same transaction."""
        self.conn.execute(_RECORD, [
            {"_id": r.notification_id, "_status": r.status.value, "_attempts": r.attempt,
             "_next": r.next_attempt_at, "_error": r.error, "_sent_at": r.sent_at, "_silence_id": r.silence_id}
            for r in batch])
        self.log([(r.notification_id, r.attempt, r.outcome, r.http_status, r.error, r.duration_ms) for r in batch],
                 now)
        if dead_letters and outbox is not None:
            outbox.add(self.conn, dead_letters, now)

    def log(self, lines: list[tuple[int, int, AttemptOutcome, int | None, str | None, int]], now: datetime) -> None:
        """Delivery-log lines: (notification, attempt, outcome, HTTP status, error, duration in ms)."""
        if lines:  # by COPY on PostgreSQL for a large batch
            insert_rows(self.conn, delivery_attempts, [
                {"notification_id": nid, "attempt": attempt, "at": now, "outcome": outcome.value,
                 "http_status": status, "error": error, "duration_ms": ms}
                for nid, attempt, outcome, status, error, ms in lines])

    def hurry(self, receivers: set[str], now: datetime) -> None:
        """Make the receivers' waiting backlog due now (they answered again)."""
        self.conn.execute(update(n).where(n.c.receiver.in_(receivers), n.c.status == DeliveryStatus.PENDING.value,
                                          n.c.next_attempt_at > now).values(next_attempt_at=now))

    def revive(self, receivers: set[str], now: datetime, budget_start_after: datetime) -> list[int]:
        """Queue again the receivers' dead notifications whose retry budget has not run out; returns their ids."""
        ids = list(self.conn.execute(select(n.c.id).where(
            n.c.receiver.in_(receivers), n.c.status == DeliveryStatus.DEAD.value,
            func.coalesce(n.c.retry_since, n.c.created_at) > budget_start_after)).scalars())
        if ids:
            self.conn.execute(update(n).where(n.c.id.in_(ids), n.c.status == DeliveryStatus.DEAD.value)
                              .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now))
            self.log([(i, 0, AttemptOutcome.REVIVED, None, "the receiver answered again", 0) for i in ids], now)
        return ids

    def get(self, notification_id: int) -> Row[Any] | None:
        """One notification."""
        return self.conn.execute(select(n).where(n.c.id == notification_id)).first()

    def requeue(self, notification_id: int, *, statuses: tuple[DeliveryStatus, ...], outcome: AttemptOutcome,
                by: str, now: datetime) -> bool:
        """Queue a given-up notification again (same idempotency key, a fresh retry budget); False if not in
        one of ``statuses`` any more."""
        res = self.conn.execute(update(n).where(n.c.id == notification_id,
                                                n.c.status.in_([s.value for s in statuses]))
                                .values(status=DeliveryStatus.PENDING.value, next_attempt_at=now, retry_since=now))
        if res.rowcount != 1:
            return False
        self.log([(notification_id, 0, outcome, None, f"{outcome.value} by {by}", 0)], now)
        return True

    def given_up(self, *, statuses: tuple[DeliveryStatus, ...], department: str | None, channel: str | None,
                 since: datetime | None, limit: int) -> list[int]:
        """Ids of notifications in ``statuses``, oldest first, filtered."""
        q = select(n.c.id).where(n.c.status.in_([s.value for s in statuses])).order_by(n.c.id).limit(limit)
        if department:
            q = q.where(n.c.department == department)
        if channel:
            q = q.where(n.c.channel == channel)
        if since:
            q = q.where(n.c.created_at >= since)
        return list(self.conn.execute(q).scalars())

    def search(self, *, status: str | None, alert_id: str | None, department: str | None, channel: str | None,
               limit: int) -> list[Row[Any]]:
        """Notifications newest first, filtered."""
        q = select(n).order_by(n.c.id.desc()).limit(limit)
        if status:
            q = q.where(n.c.status == status)
        if alert_id:
            q = q.where(("," + n.c.alert_ids + ",").contains(f",{alert_id},") | (n.c.alert_id == alert_id))
        if department:
            q = q.where(n.c.department == department)
        if channel:
            q = q.where(n.c.channel == channel)
        return list(self.conn.execute(q))

    def recent_sends(self, channels: list[str], since: datetime) -> list[tuple[str, datetime]]:
        """(receiver, when) of each attempt on these channels that reached the platform since ``since``."""
        d = delivery_attempts
        q = (select(n.c.receiver, d.c.at).join(n, n.c.id == d.c.notification_id)
             .where(n.c.channel.in_(channels), d.c.at >= since, d.c.http_status.is_not(None)))
        return [(r.receiver, r.at) for r in self.conn.execute(q)]

    def attempts(self, notification_id: int) -> list[Row[Any]]:
        """A notification's delivery log, in order."""
        d = delivery_attempts
        return list(self.conn.execute(select(d).where(d.c.notification_id == notification_id).order_by(d.c.id)))

    def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished notifications queued before ``before``, with their log and parts."""
        ids = list(self.conn.execute(select(n.c.id).where(n.c.status.in_(_FINISHED), n.c.created_at < before)
                                     .order_by(n.c.id).limit(limit)).scalars())
        if not ids:
            return 0
        self.conn.execute(delete(delivery_attempts).where(delivery_attempts.c.notification_id.in_(ids)))
        self.conn.execute(delete(notification_items).where(notification_items.c.notification_id.in_(ids)))
        self.conn.execute(delete(n).where(n.c.id.in_(ids)))
        return len(ids)
