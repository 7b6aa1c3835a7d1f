"""The alerts' clock-driven transitions: escalation of overdue critical alerts, and reminders for open ones.

- A critical alert still unacknowledged ``escalate_after_s`` after it became critical (or after its last
  step) is escalated one step up the administrative chain (the catalogue's department.parent, up to
  市政府办公室), which is told in an 【逾期未确认·提级督办】 notification.
- An alert still firing (not acknowledged) ``repeat_interval_s`` after it was last notified is sent again
  to its departments as an 【预警提醒】.

Each step is a conditional update (on the level or the last-notified time read) in the same transaction as
the notifications it queues, so a rerun, a crash or a second replica never does a step twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.engine import Connection

from services.alerts.adapters.tables import alerts
from services.alerts.domain.directory import Routing
from services.alerts.handlers import outgoing_for
from services.alerts.notify import NotificationQueue, Outgoing
from shared.catalogue import Catalogue
from shared.clock import Clock, utc_now
from shared.messages import Severity, TargetStatusChanged

log = logging.getLogger(__name__)


def chain_of(catalogue: Catalogue, department: str) -> list[str]:
    """The departments above ``department``, nearest first (empty for the top)."""
    out: list[str] = []
    d = catalogue.departments.get(department)
    while d is not None and d.parent and d.parent not in out and len(out) < 10:
        out.append(d.parent)
        d = catalogue.departments.get(d.parent)
    return out


class LifecycleLoop:
    """Runs escalations and reminders every ``interval_s``."""

    def __init__(self, engine: Engine, catalogue: Catalogue, routing: Routing, queue: NotificationQueue, *,
                 escalate_after_s: float, repeat_interval_s: float, interval_s: float,
                 after_commit: Callable[[], None] | None = None, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.catalogue = catalogue
        self.routing = routing
        self.queue = queue
        self.escalate_after_s = escalate_after_s
        self.repeat_interval_s = repeat_interval_s
        self.interval_s = interval_s
        self.after_commit = after_commit
        self.clock = clock

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("escalation round failed; retrying")
            stop.wait(self.interval_s)

    def tick(self) -> int:
        """One round; returns how many alerts were escalated or reminded."""
        now = self.clock()
        with self.engine.begin() as conn:
            done = self._escalate(conn, now) + self._remind(conn, now)
        if done and self.after_commit:
            self.after_commit()
        return done

    def _escalate(self, conn: Connection, now: datetime) -> int:
        if self.escalate_after_s <= 0:
            return 0
        a = alerts
        cutoff = now - timedelta(seconds=self.escalate_after_s)
        rows = conn.execute(select(a.c.id, a.c.lead_department, a.c.escalation_level, a.c.escalated_at,
                                   a.c.opened_at, a.c.event)
                            .where(a.c.status == "firing", a.c.severity == Severity.CRITICAL.value)).all()
        done = 0
        for r in rows:
            since = r.escalated_at or r.opened_at
            chain = chain_of(self.catalogue, r.lead_department)
            if since > cutoff or r.escalation_level >= len(chain) or not r.event:
                continue
            level = r.escalation_level + 1
            res = conn.execute(update(a).where(a.c.id == r.id, a.c.escalation_level == r.escalation_level,
                                               a.c.status == "firing")
                               .values(escalation_level=level, escalated_at=now))
            if res.rowcount != 1:
                continue  # acknowledged or escalated meanwhile
            event = TargetStatusChanged.model_validate_json(r.event)
            self.queue.enqueue(conn, [Outgoing(r.id, "overdue", chain[level - 1], "overdue", event,
                                               f"overdue-{level}", level)], now)
            log.info("alert %s unacknowledged: escalated to %s (level %d)", r.id, chain[level - 1], level)
            done += 1
        return done

    def _remind(self, conn: Connection, now: datetime) -> int:
        if self.repeat_interval_s <= 0:
            return 0
        a = alerts
        cutoff = now - timedelta(seconds=self.repeat_interval_s)
        rows = conn.execute(select(a.c.id, a.c.severity, a.c.last_notified_at, a.c.event)
                            .where(a.c.status == "firing", a.c.last_notified_at <= cutoff)).all()
        done = 0
        for r in rows:
            if not r.event:
                continue
            res = conn.execute(update(a).where(a.c.id == r.id, a.c.last_notified_at == r.last_notified_at)
                               .values(last_notified_at=now))
            if res.rowcount != 1:
                continue
            event = TargetStatusChanged.model_validate_json(r.event)
            self.queue.enqueue(conn, outgoing_for(self.routing, r.id, "reminder", event, Severity(r.severity),
                                                  f"reminder-{now.isoformat()}"), now)
            done += 1
        return done
