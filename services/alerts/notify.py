"""Queues notifications: one alert part per department and channel, silenced or not, grouped or not.

With group_wait = 0 every part becomes its own notification in the caller's transaction (lowest latency).
Otherwise parts wait in ``notification_items`` and ``flush_groups`` releases one notification per receiver
(department and channel) once the first part waited group_wait and the receiver's previous group is at least
group_interval old, like Alertmanager's aggregation groups. Parts muted by a silence are recorded as
``suppressed`` notifications and never sent.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from services.alerts.adapters.tables import notification_items, notifications, receiver_groups, silences
from services.alerts.channels.render import render
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.silences import Silence, silenced_by
from services.alerts.domain.templates import AlertPart
from services.alerts.links import AckLinks
from services.alerts.receivers import Receivers
from shared.catalogue import Catalogue
from shared.messages import TargetStatusChanged


@dataclass(frozen=True)
class Outgoing:
    """One alert to tell one department about, and why."""

    alert_id: str
    kind: str  # firing, escalated, resolved, reminder, overdue
    department: str
    role: str  # lead, co, rule, overdue
    event: TargetStatusChanged
    cause: str  # what caused it (event id, reminder time, escalation level): part of the idempotency key
    escalation_level: int = 0


def active_silences(conn: Connection, now: datetime) -> list[Silence]:
    """Silences in force now."""
    s = silences
    rows = conn.execute(select(s.c.id, s.c.target_id, s.c.department, s.c.severity, s.c.starts_at, s.c.ends_at)
                        .where(s.c.ends_at > now, s.c.starts_at <= now)).all()
    return [Silence(r.id, r.target_id, r.department, r.severity, r.starts_at, r.ends_at)
            for r in rows]


class NotificationQueue:
    """Turns outgoing alert parts into queued notifications."""

    def __init__(self, catalogue: Catalogue, receivers: Receivers, links: AckLinks, *, group_wait_s: float,
                 group_interval_s: float) -> None:
        self.catalogue = catalogue
        self.receivers = receivers
        self.links = links
        self.group_wait_s = group_wait_s
        self.group_interval_s = group_interval_s
        self._silence_cache: tuple[object, list[Silence]] | None = None

    def _dept_zh(self, dept: str) -> str:
        return self.catalogue.department_name(dept) if dept in self.catalogue.departments else dept

    def part(self, o: Outgoing, now: datetime) -> AlertPart:
        """The rendered-to-be part of one outgoing alert."""
        target = self.catalogue.targets.get(o.event.target_id)
        ack = None
        if o.kind != "resolved" and o.role in ("lead", "overdue"):
            # The lead department acknowledges; a superior chasing an overdue alert may too.
            ack = self.links.url(o.alert_id, o.department, now.timestamp())
        return AlertPart(o.alert_id, o.kind, o.event, self._dept_zh(o.department), o.role,
                         getattr(target, "phrase", None), ack, self._dept_zh(o.event.lead_department),
                         o.escalation_level)

    def _silences(self, conn: Connection, now: datetime) -> list[Silence]:
        # Read once per transaction (a consumer batch), not once per event: silences change rarely, and the
        # batch is short. The transaction object identifies the batch.
        tx = conn.get_transaction()
        if self._silence_cache is not None and self._silence_cache[0] is tx:
            return self._silence_cache[1]
        muted = active_silences(conn, now)
        self._silence_cache = (tx, muted)
        return muted

    def enqueue(self, conn: Connection, outgoing: list[Outgoing], now: datetime) -> int:
        """Queue notifications for ``outgoing`` in ``conn``'s transaction; returns how many rows were written."""
        if not outgoing:
            return 0
        muted = self._silences(conn, now)
        direct: list[dict[str, object]] = []
        items: list[dict[str, object]] = []
        for o in outgoing:
            dests = self.receivers.for_department(o.department)
            if not dests:
                continue
            part = self.part(o, now)
            silence = silenced_by(muted, now, target_id=o.event.target_id, department=o.department,
                                  severity=o.event.severity.value if o.kind != "resolved" else "ok")
            for d in dests:
                key = uuid.uuid5(uuid.NAMESPACE_URL, f"{o.cause}/{o.alert_id}/{o.kind}/{d.ref}").hex
                if silence is None and self.group_wait_s > 0:
                    items.append({"alert_id": o.alert_id, "kind": o.kind, "department": o.department,
                                  "channel": d.type.value, "receiver": d.ref, "created_at": now,
                                  "content": json.dumps(_part_doc(part), ensure_ascii=False)})
                    continue
                direct.append(self._row(d.type, d.ref, o.department, [part], key, now,
                                        "suppressed" if silence else "pending", silence.id if silence else None))
        if direct:
            conn.execute(notifications.insert(), direct)
        if items:
            conn.execute(notification_items.insert(), items)
        return len(direct) + len(items)

    def _row(self, channel: ChannelType, ref: str, dept: str, parts: list[AlertPart], key: str, now: datetime,
             status: str, silence_id: str | None) -> dict[str, object]:
        kinds = {p.kind for p in parts}
        return {
            "idempotency_key": key, "alert_id": parts[0].alert_id, "kind": kinds.pop() if len(kinds) == 1 else
            "grouped", "department": dept, "channel": channel.value, "receiver": ref,
            "payload": render(channel, parts, department=dept, department_zh=self._dept_zh(dept),
                              idempotency_key=key),
            "status": status, "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now,
            "sent_at": None, "alert_ids": ",".join(dict.fromkeys(p.alert_id for p in parts)),
            "silence_id": silence_id,
        }

    def flush_groups(self, conn: Connection, now: datetime) -> int:
        """Release due groups as one notification per receiver; returns how many notifications were queued."""
        it = notification_items
        pending = conn.execute(select(it.c.receiver, it.c.created_at).where(it.c.notification_id.is_(None))).all()
        if not pending:
            return 0
        oldest: dict[str, datetime] = {}
        for r in pending:
            t = r.created_at
            if r.receiver not in oldest or t < oldest[r.receiver]:
                oldest[r.receiver] = t
        last = {r.receiver: r.last_flushed_at for r in conn.execute(
            select(receiver_groups).where(receiver_groups.c.receiver.in_(list(oldest))))}
        wait, interval = timedelta(seconds=self.group_wait_s), timedelta(seconds=self.group_interval_s)
        due = [ref for ref, t in oldest.items()
               if t + wait <= now and (ref not in last or last[ref] + interval <= now)]
        queued = 0
        for ref in due:
            rows = conn.execute(select(it).where(it.c.receiver == ref, it.c.notification_id.is_(None))
                                .order_by(it.c.id)).all()
            if not rows:
                continue
            parts = [_part_from_doc(json.loads(r.content)) for r in rows]
            # A random key, stored with the notification before anything is sent: stable across retries.
            key = uuid.uuid4().hex
            row = self._row(ChannelType(rows[0].channel), ref, rows[0].department, parts, key, now, "pending", None)
            nid = conn.execute(notifications.insert().values(**row)).inserted_primary_key[0]
            conn.execute(update(it).where(it.c.id.in_([r.id for r in rows])).values(notification_id=nid))
            if ref in last:
                conn.execute(update(receiver_groups).where(receiver_groups.c.receiver == ref)
                             .values(last_flushed_at=now))
            else:
                conn.execute(receiver_groups.insert().values(receiver=ref, last_flushed_at=now))
            queued += 1
        return queued

    def next_flush_in(self, conn: Connection, now: datetime) -> float | None:
        """Seconds until the next group could be due (None when nothing waits)."""
        it = notification_items
        t = conn.execute(select(it.c.created_at).where(it.c.notification_id.is_(None))
                         .order_by(it.c.id).limit(1)).scalar()
        if t is None:
            return None
        return max(0.0, (t + timedelta(seconds=self.group_wait_s) - now).total_seconds())


def _part_doc(p: AlertPart) -> dict[str, object]:
    return {"alert_id": p.alert_id, "kind": p.kind, "event": p.event.model_dump(mode="json"),
            "department_zh": p.department_zh, "role": p.role, "phrase": p.phrase, "ack_url": p.ack_url,
            "lead_department_zh": p.lead_department_zh, "escalation_level": p.escalation_level}


def _part_from_doc(d: dict[str, object]) -> AlertPart:
    return AlertPart(
        alert_id=str(d["alert_id"]), kind=str(d["kind"]), event=TargetStatusChanged.model_validate(d["event"]),
        department_zh=str(d["department_zh"]), role=str(d["role"]),
        phrase=d["phrase"] if isinstance(d["phrase"], str) else None,
        ack_url=d["ack_url"] if isinstance(d["ack_url"], str) else None,
        lead_department_zh=str(d["lead_department_zh"]), escalation_level=int(d["escalation_level"]),  # type: ignore[arg-type]
    )
