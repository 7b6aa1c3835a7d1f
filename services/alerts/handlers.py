"""The alerts service's message handler: turn a target's status change into alert state and queued notifications.

Runs in the consumer loop's transaction, so the alert, its notifications and the processed event id commit
together: a redelivered event finds its id processed and queues nothing twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from services.alerts.adapters.tables import alerts, notifications
from services.alerts.channels.webhook import PAYLOAD_VERSION
from services.alerts.domain.lifecycle import Action, OpenAlert, decide
from services.alerts.domain.templates import body, title
from shared.catalogue import Catalogue
from shared.clock import Clock
from shared.messages import Envelope, EventData, InvalidMessage, Severity, TargetStatusChanged

Receivers = Callable[[str], list[tuple[str, str]]]  # department id -> [(channel, address)]


class StatusChangeHandler:
    """Handles TargetStatusChanged events."""

    def __init__(self, catalogue: Catalogue, receivers: Receivers, clock: Clock, public_url: str | None) -> None:
        self.catalogue = catalogue
        self.receivers = receivers
        self.clock = clock
        self.public_url = public_url

    def __call__(self, conn: Connection, envelope: Envelope, data: EventData) -> None:
        if not isinstance(data, TargetStatusChanged):
            raise InvalidMessage(f"the alerts service does not handle {envelope.type}")
        now = self.clock()
        row = conn.execute(
            select(alerts.c.id, alerts.c.severity).where(alerts.c.target_id == data.target_id,
                                                         alerts.c.status != "resolved")
        ).first()
        open_alert = OpenAlert(row.id, Severity(row.severity)) if row else None
        action = decide(open_alert, data.severity)
        if action == Action.IGNORE:
            return
        fields = {"severity": data.severity.value, "target_status": data.status, "period": data.period,
                  "message_zh": data.message_zh, "last_event_id": envelope.id, "updated_at": now}
        if open_alert is None:
            alert_id = uuid.uuid4().hex
            conn.execute(alerts.insert().values(
                id=alert_id, target_id=data.target_id, status="firing", lead_department=data.lead_department,
                co_departments=",".join(data.co_departments), opened_at=now, resolved_at=None, **fields,
            ))
        else:
            alert_id = open_alert.id
            if action == Action.RESOLVE:
                fields.update(status="resolved", resolved_at=now)
            conn.execute(alerts.update().where(alerts.c.id == alert_id).values(**fields))
        if action != Action.UPDATE:
            self._queue(conn, alert_id, action, data, envelope, now)

    def _queue(self, conn: Connection, alert_id: str, action: Action, data: TargetStatusChanged,
               envelope: Envelope, now: datetime) -> None:
        rows = []
        for dept in (data.lead_department, *data.co_departments):
            dept_zh = self.catalogue.department_name(dept) if dept in self.catalogue.departments else dept
            ack_url = f"{self.public_url}/v1/alerts/{alert_id}" if self.public_url else None
            text = body(action, data, dept_zh, ack_url)
            for channel, address in self.receivers(dept):
                key = uuid.uuid5(uuid.NAMESPACE_URL, f"{envelope.id}/{dept}/{channel}/{address}").hex
                payload = {
                    "version": PAYLOAD_VERSION, "idempotency_key": key, "kind": action.value,
                    "alert_id": alert_id, "department": {"id": dept, "name_zh": dept_zh},
                    "title": title(action, data), "text": text, "event": data.model_dump(mode="json"),
                }
                rows.append({
                    "idempotency_key": key, "alert_id": alert_id, "kind": action.value, "department": dept,
                    "channel": channel, "receiver": address,
                    "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                    "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
                    "created_at": now, "sent_at": None,
                })
        if rows:
            conn.execute(notifications.insert(), rows)
