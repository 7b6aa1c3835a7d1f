"""The alerts' clock-driven transitions: escalation of overdue critical alerts, and reminders for open ones.

- A critical alert still unacknowledged ``escalate_after_s`` after it became critical (or after its last
  step) is escalated one step up the administrative chain (the catalogue's department.parent, up to
  市政府办公室), which is told in an 【逾期未确认·提级督办】 notification.
- An alert still firing (not acknowledged) ``repeat_interval_s`` after it was last notified is sent again
  to its departments as an 【预警提醒】.

Both times count working time by default (``deadlines_in``, shared/workdays.py): an alert opened on the eve
of the Spring Festival holiday is reminded and escalated after it, not during it.

Each step is a conditional update (on the level or the last-notified time read) in the same transaction as
the notifications it queues, so a rerun, a crash or a second replica never does a step twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from services.alerts.adapters.db import Database, Repositories
from services.alerts.domain.directory import Routing
from services.alerts.domain.model import NotificationKind, Outgoing, Role
from services.alerts.handlers import outgoing_for
from services.alerts.loops import run_every
from services.alerts.pipeline import Pipeline
from shared.catalogue import Catalogue, Catalogues
from shared.clock import Clock, utc_now
from shared.messages import Severity, TargetStatusChanged
from shared.workdays import TimeBasis, deadline_cutoff

log = logging.getLogger(__name__)


def chain_of(catalogue: Catalogue | Catalogues, department: str) -> list[str]:
    """The departments above ``department``, nearest first (empty for the top)."""
    out: list[str] = []
    d = catalogue.departments.get(department)
    while d is not None and d.parent and d.parent not in out and len(out) < 10:
        out.append(d.parent)
        d = catalogue.departments.get(d.parent)
    return out


class TimedTransitions:
    """Escalations and reminders, every ``interval_s``."""

    def __init__(self, db: Database, catalogue: Catalogue | Catalogues, routing: Routing, pipeline: Pipeline, *,
                 escalate_after_s: float, repeat_interval_s: float, interval_s: float,
                 after_commit: Callable[[], None] | None = None, clock: Clock = utc_now,
                 deadlines_in: TimeBasis = TimeBasis.WORKING_DAYS) -> None:
        self.db = db
        self.catalogue = catalogue
        self.routing = routing
        self.pipeline = pipeline
        self.escalate_after_s = escalate_after_s
        self.repeat_interval_s = repeat_interval_s
        self.interval_s = interval_s
        self.after_commit = after_commit
        self.clock = clock
        self.deadlines_in = deadlines_in

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set."""
        run_every(self.interval_s, self.tick, stop, "escalations and reminders")

    def tick(self) -> int:
        """One round; returns how many alerts were escalated or reminded."""
        now = self.clock()
        with self.db.transaction() as repos:
            done = self._escalate(repos, now) + self._remind(repos, now)
        if done and self.after_commit:
            self.after_commit()
        return done

    def _escalate(self, repos: Repositories, now: datetime) -> int:
        if self.escalate_after_s <= 0:
            return 0
        cutoff = deadline_cutoff(now, self.escalate_after_s, self.deadlines_in)
        done = 0
        for r in repos.alerts.firing_critical():
            since = r.escalated_at or r.opened_at
            chain = chain_of(self.catalogue, r.lead_department)
            if since > cutoff or r.escalation_level >= len(chain) or not r.event:
                continue
            if not repos.alerts.escalate_step(r.id, r.escalation_level, now):
                continue  # acknowledged or escalated meanwhile
            level = r.escalation_level + 1
            event = TargetStatusChanged.model_validate_json(r.event)
            self.pipeline.run(repos, [Outgoing(r.id, NotificationKind.OVERDUE, chain[level - 1], Role.OVERDUE, event,
                                               f"overdue-{level}", level)], now)
            log.info("alert %s unacknowledged: escalated to %s (level %d)", r.id, chain[level - 1], level)
            done += 1
        return done

    def _remind(self, repos: Repositories, now: datetime) -> int:
        if self.repeat_interval_s <= 0:
            return 0
        done = 0
        for r in repos.alerts.firing_notified_before(
                deadline_cutoff(now, self.repeat_interval_s, self.deadlines_in)):
            if not r.event or not repos.alerts.mark_reminded(r.id, r.last_notified_at, now):
                continue
            event = TargetStatusChanged.model_validate_json(r.event)
            self.pipeline.run(repos, outgoing_for(self.routing, r.id, NotificationKind.REMINDER, event,
                                                  Severity(r.severity), f"reminder-{now.isoformat()}"), now)
            done += 1
        return done
