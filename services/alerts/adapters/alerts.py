"""Alerts: one per target while it deviates. State changes are compare-and-set on the status read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Row

from services.alerts.adapters.tables import alerts
from services.alerts.domain.inhibit import SourceFilter
from services.alerts.domain.model import AlertStatus
from shared.db import insert_rows, update_rows
from shared.messages import TargetStatusChanged

_OPEN = (AlertStatus.FIRING.value, AlertStatus.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class OpenAlertEvent:
    """An open alert's id, severity and latest event."""

    id: str
    severity: str
    event: TargetStatusChanged


class AlertRepository:
    """Reads and writes the ``alerts`` table in the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_for_targets(self, target_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The open alert (id, severity) of each of these targets that has one, by target id (a batch's, at once)."""
        out: dict[str, tuple[str, str]] = {}
        ids = sorted(set(target_ids))
        for i in range(0, len(ids), 500):  # IN lists within SQLite's parameter limit
            rows = self.conn.execute(select(alerts.c.target_id, alerts.c.id, alerts.c.severity).where(
                alerts.c.target_id.in_(ids[i : i + 500]), alerts.c.status != AlertStatus.RESOLVED.value))
            out.update((t, (a, sev)) for t, a, sev in rows)
        return out

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """New alerts (a batch's, by COPY on PostgreSQL when there are many)."""
        insert_rows(self.conn, alerts, rows)

    def update_open_many(self, changes: dict[str, dict[str, Any]]) -> None:
        """Change alerts that are still open, by alert id, each with its own fields."""
        update_rows(self.conn, alerts, alerts.c.id, changes, alerts.c.status != AlertStatus.RESOLVED.value)

    def get(self, alert_id: str) -> Row[Any] | None:
        """One alert."""
        return self.conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()

    def update_open(self, alert_id: str, fields: dict[str, Any]) -> bool:
        """Change an alert that is still open; False when it was resolved meanwhile."""
        res = self.conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.status.in_(_OPEN))
                                .values(**fields))
        return res.rowcount == 1

    def acknowledge(self, alert_id: str, *, by: str, explanation: str, measures: str, now: datetime) -> bool:
        """firing/acknowledged → acknowledged, only while still open (compare-and-set); False otherwise."""
        return self.update_open(alert_id, {"status": AlertStatus.ACKNOWLEDGED.value, "acknowledged_at": now,
                                           "acknowledged_by": by, "ack_explanation": explanation,
                                           "ack_measures": measures, "updated_at": now})

    def escalate_step(self, alert_id: str, level_read: int, now: datetime) -> bool:
        """One step up the chain, if nobody acknowledged or escalated it since ``level_read`` was read."""
        res = self.conn.execute(update(alerts).where(alerts.c.id == alert_id,
                                                     alerts.c.escalation_level == level_read,
                                                     alerts.c.status == AlertStatus.FIRING.value)
                                .values(escalation_level=level_read + 1, escalated_at=now))
        return res.rowcount == 1

    def mark_reminded(self, alert_id: str, last_read: datetime, now: datetime) -> bool:
        """Record a reminder, if no other round sent one since ``last_read``."""
        res = self.conn.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.last_notified_at == last_read,
                                                     alerts.c.status == AlertStatus.FIRING.value)
                                .values(last_notified_at=now))
        return res.rowcount == 1

    def open_with_events(self, only: SourceFilter | None = None) -> list[OpenAlertEvent]:
        """Open alerts (firing or acknowledged) with their latest event, as inhibition sources; ``only`` those that
        can be one under a rule (read every open alert for every notification and a bad morning's thousands of open
        alerts make each event cost thousands of JSON parses)."""
        q = select(alerts.c.id, alerts.c.severity, alerts.c.event).where(alerts.c.status.in_(_OPEN),
                                                                        alerts.c.event.is_not(None))
        if only is not None:
            if only.target_ids is not None and not only.target_ids:
                return []
            for column, values in ((alerts.c.severity, only.severities), (alerts.c.section, only.sections),
                                   (alerts.c.target_id, only.target_ids)):
                if values is not None:
                    q = q.where(column.in_(sorted(values)))
        rows = self.conn.execute(q.order_by(alerts.c.opened_at, alerts.c.id))
        return [OpenAlertEvent(r.id, r.severity, TargetStatusChanged.model_validate_json(r.event)) for r in rows]

    def firing_critical(self) -> list[Row[Any]]:
        """Critical alerts nobody acknowledged, for escalation."""
        a = alerts
        return list(self.conn.execute(select(a.c.id, a.c.lead_department, a.c.escalation_level, a.c.escalated_at,
                                             a.c.opened_at, a.c.event)
                                      .where(a.c.status == AlertStatus.FIRING.value, a.c.severity == "critical")))

    def firing_notified_before(self, cutoff: datetime) -> list[Row[Any]]:
        """Firing alerts last notified at or before ``cutoff``, for reminders."""
        a = alerts
        return list(self.conn.execute(select(a.c.id, a.c.severity, a.c.last_notified_at, a.c.event)
                                      .where(a.c.status == AlertStatus.FIRING.value,
                                             a.c.last_notified_at <= cutoff)))

    def search(self, *, status: str | None, department: str | None, severity: str | None,
               limit: int) -> list[Row[Any]]:
        """Alerts newest first, filtered (status ``open`` = firing or acknowledged)."""
        q = select(alerts).order_by(alerts.c.updated_at.desc()).limit(limit)
        if status == "open":
            q = q.where(alerts.c.status != AlertStatus.RESOLVED.value)
        elif status:
            q = q.where(alerts.c.status == status)
        if severity:
            q = q.where(alerts.c.severity == severity)
        if department:
            co = "," + alerts.c.co_departments + ","
            q = q.where((alerts.c.lead_department == department) | co.contains(f",{department},"))
        return list(self.conn.execute(q))

    def open_by_severity(self) -> dict[str, int]:
        """How many alerts are open, per severity."""
        rows = self.conn.execute(select(alerts.c.severity, func.count())
                                 .where(alerts.c.status != AlertStatus.RESOLVED.value)
                                 .group_by(alerts.c.severity)).all()
        return {sev: n for sev, n in rows}

    def prune_resolved(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` alerts resolved before ``before``; returns how many."""
        ids = select(alerts.c.id).where(alerts.c.status == AlertStatus.RESOLVED.value,
                                        alerts.c.resolved_at < before).limit(limit)
        return self.conn.execute(delete(alerts).where(alerts.c.id.in_(ids.scalar_subquery()))).rowcount
