"""The alerts service's message handler: turn a target's status change into alert state and queued notifications.

Runs in the consumer loop's transaction, so the alert, its notifications and the processed event id commit
together: a redelivered event finds its id processed and queues nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.alerts.adapters.db import Conn, Repositories
from services.alerts.domain.directory import Routing
from services.alerts.domain.lifecycle import Action, OpenAlert, decide
from services.alerts.domain.model import AlertStatus, NotificationKind, Outgoing, Role
from services.alerts.pipeline import Pipeline
from shared.clock import Clock
from shared.ids import random_hex_id
from shared.messages import Envelope, EventData, InvalidMessage, Severity, TargetStatusChanged


def outgoing_for(routing: Routing, alert_id: str, kind: NotificationKind, event: TargetStatusChanged,
                 severity: Severity, cause: str) -> list[Outgoing]:
    """One outgoing part per department the routing tells about this alert."""
    recipients = routing.recipients(severity=severity, section=event.section, target_id=event.target_id,
                                    lead=event.lead_department, co=event.co_departments, region=event.region)
    return [Outgoing(alert_id, kind, r.department, Role(r.reason.split(":")[0]), event, cause) for r in recipients]


class StatusChangeHandler:
    """Handles TargetStatusChanged events; in the consumer loop, a polled batch at a time (``begin_batch``,
    each event, ``end_batch``).

    In a batch the targets' open alerts are read in one query, alerts opened and changed are written together,
    and the notifications of the whole batch go through the pipeline once at its end, after those writes: the
    inhibit stage then judges every notice against the alerts as the batch leaves them (an alert opened or
    resolved anywhere in the batch counts, as Alertmanager judges inhibition when it sends). Called alone (not
    in a batch), an event is a batch of one.
    """

    def __init__(self, routing: Routing, pipeline: Pipeline, clock: Clock) -> None:
        self.routing = routing
        self.pipeline = pipeline
        self.clock = clock
        self._batch: _Batch | None = None

    def begin_batch(self, conn: Conn, items: Sequence[tuple[Envelope, EventData]]) -> None:
        """Read the open alerts of the batch's targets at once; forget any earlier batch."""
        ids = [d.target_id for _, d in items if isinstance(d, TargetStatusChanged)]
        found = Repositories.on(conn).alerts.open_for_targets(ids)
        self._batch = _Batch({t: OpenAlert(a, Severity(sev)) for t, (a, sev) in found.items()})

    def end_batch(self, conn: Conn) -> None:
        """Write the batch's alerts, then queue its notifications through the pipeline in one run."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        repos = Repositories.on(conn)
        repos.alerts.insert_many(list(batch.inserts.values()))
        repos.alerts.update_open_many(batch.updates)
        if batch.outgoing:
            self.pipeline.run(repos, batch.outgoing, self.clock())

    def __call__(self, conn: Conn, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, TargetStatusChanged):
            raise InvalidMessage(f"the alerts service does not handle {envelope.type}")
        if self._batch is not None:
            self._handle(self._batch, envelope, data)
            return
        self.begin_batch(conn, [(envelope, data)])  # called alone, not by the consumer loop: a batch of one
        assert self._batch is not None
        self._handle(self._batch, envelope, data)
        self.end_batch(conn)

    def _handle(self, batch: _Batch, envelope: Envelope, data: TargetStatusChanged) -> None:
        now = self.clock()
        open_alert = batch.open.get(data.target_id)
        action = decide(open_alert, data.severity)
        if action == Action.IGNORE:
            return
        fields = {"target_status": data.status, "period": data.period, "message_zh": data.message_zh,
                  "last_event_id": envelope.id, "updated_at": now, "section": data.section,
                  "event": data.model_dump_json()}
        if action != Action.RESOLVE:
            fields["severity"] = data.severity.value
        if open_alert is None:
            alert_id = random_hex_id()
            batch.inserts[alert_id] = {
                "id": alert_id, "target_id": data.target_id, "status": AlertStatus.FIRING.value,
                "lead_department": data.lead_department, "co_departments": ",".join(data.co_departments),
                "opened_at": now, "resolved_at": None, "escalation_level": 0, "last_notified_at": now,
                "acknowledged_at": None, "acknowledged_by": None, "ack_explanation": None, "ack_measures": None,
                "escalated_at": None, **fields,
            }
        else:
            alert_id = open_alert.id
            if action == Action.RESOLVE:
                fields.update(status=AlertStatus.RESOLVED.value, resolved_at=now)
            elif action == Action.ESCALATE:
                # Worse than what was acknowledged: it needs the department's attention again.
                fields.update(status=AlertStatus.FIRING.value, last_notified_at=now, escalated_at=now)
            # This partition's events are handled one at a time, so only an acknowledgement can race with
            # this update, and it never resolves: the alert read as open is still open.
            if alert_id in batch.inserts:  # opened earlier in this batch: written once, as it ends up
                batch.inserts[alert_id].update(fields)
            else:
                batch.updates[alert_id] = {**batch.updates.get(alert_id, {}), **fields}
        batch.open[data.target_id] = None if action == Action.RESOLVE else OpenAlert(alert_id, data.severity)
        if action == Action.UPDATE:
            return
        # A recovery goes to everyone the alert went to, so route it with the alert's last severity.
        severity = open_alert.severity if action == Action.RESOLVE and open_alert else data.severity
        batch.outgoing += outgoing_for(self.routing, alert_id, NotificationKind(action.value), data, severity,
                                       envelope.id)


@dataclass
class _Batch:
    """One polled batch's alerts as they stand, the writes still to make, and the notifications still to queue."""

    open: dict[str, OpenAlert | None]  # by target id; None once resolved in the batch
    inserts: dict[str, dict[str, Any]] = field(default_factory=dict)  # alert id -> row
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # alert id -> fields changed
    outgoing: list[Outgoing] = field(default_factory=list)
