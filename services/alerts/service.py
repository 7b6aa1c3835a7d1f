"""The alerts service's use cases for the HTTP API and the operator's commands; the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.alerts.adapters.db import Repositories
from services.alerts.domain.model import GIVEN_UP, AlertStatus, AttemptOutcome, DeliveryStatus


class NotFound(LookupError):
    """No such alert, silence or notification."""


class Conflict(ValueError):
    """The request does not fit the current state."""


def acknowledge(repos: Repositories, alert_id: str, *, by: str, explanation: str, measures: str,
                now: datetime) -> Any:
    """firing → acknowledged, with the department's explanation and 整改措施; stops reminders and escalation.

    Compare-and-set: an alert resolved between the caller's read and this write stays resolved.
    """
    row = repos.alerts.get(alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    if row.status == AlertStatus.RESOLVED or not repos.alerts.acknowledge(
            alert_id, by=by, explanation=explanation, measures=measures, now=now):
        raise Conflict(f"alert {alert_id!r} is resolved: the target recovered, nothing to acknowledge")
    return repos.alerts.get(alert_id)


def create_silence(repos: Repositories, *, target_id: str | None, department: str | None, severity: str | None,
                   starts_at: datetime, ends_at: datetime, owner: str, reason: str, created_by: str,
                   now: datetime) -> Any:
    """A new silence; it also holds back notifications already queued (checked at send time)."""
    return repos.silences.create(target_id=target_id, department=department, severity=severity,
                                 starts_at=starts_at, ends_at=ends_at, owner=owner, reason=reason,
                                 created_by=created_by, now=now)


def expire_silence(repos: Repositories, silence_id: str, now: datetime) -> Any:
    """End a silence now (kept for the record)."""
    if repos.silences.get(silence_id) is None:
        raise NotFound(f"no silence {silence_id!r}")
    repos.silences.expire(silence_id, now)
    return repos.silences.get(silence_id)


def resend(repos: Repositories, notification_id: int, *, by: str, now: datetime) -> Any:
    """Queue a given-up (dead, failed or uncertain) notification again, with the same idempotency key."""
    row = repos.notifications.get(notification_id)
    if row is None:
        raise NotFound(f"no notification {notification_id}")
    if not repos.notifications.requeue(notification_id, statuses=GIVEN_UP, outcome=AttemptOutcome.RESENT, by=by,
                                       now=now):
        raise Conflict(f"notification {notification_id} is {row.status}: only dead, failed or uncertain ones are "
                       "re-sent")
    return repos.notifications.get(notification_id)


@dataclass(frozen=True)
class Redriven:
    """What a re-drive did."""

    matched: int  # given-up notifications the filter selected
    redriven: int  # queued again by this run (the others were re-driven by a concurrent run)


def redrive(repos: Repositories, *, statuses: tuple[DeliveryStatus, ...], department: str | None,
            channel: str | None, since: datetime | None, by: str, now: datetime, limit: int) -> Redriven:
    """Queue given-up notifications again in bulk; running it twice re-drives each once."""
    ids = repos.notifications.given_up(statuses=statuses, department=department, channel=channel, since=since,
                                       limit=limit)
    done = sum(repos.notifications.requeue(i, statuses=statuses, outcome=AttemptOutcome.REDRIVEN, by=by, now=now)
               for i in ids)
    return Redriven(len(ids), done)
