"""What one delivery attempt does to its notification: sent, retried, given up, or left uncertain. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.alerts.domain.model import AttemptOutcome, DeliveryStatus
from services.alerts.domain.retry import RetryBudget


@dataclass(frozen=True)
class Attempted:
    """An attempt's result, as far as the notification's state depends on it."""

    delivered: bool
    retryable: bool
    ambiguous: bool  # failed after the message went out whole
    retry_after_s: float | None
    paused: bool = False  # a robot answered that we send too fast: try again after the pause, never given up


def settle(a: Attempted, *, since: datetime, now: datetime, delay_s: float, budget: RetryBudget,
           retry_ambiguous: bool) -> tuple[DeliveryStatus, AttemptOutcome, datetime]:
    """The notification's new status, the delivery-log outcome and when to try next."""
    if a.delivered:
        return DeliveryStatus.SENT, AttemptOutcome.DELIVERED, now
    if a.paused:
        # Our sending pace, not the receiver failing: the pause does not spend the retry budget's verdict.
        return DeliveryStatus.PENDING, AttemptOutcome.RETRY, now + timedelta(seconds=delay_s)
    if a.ambiguous and not retry_ambiguous:
        # The platform may have posted it and cannot drop a repeat: a person decides (resend or not).
        return DeliveryStatus.UNCERTAIN, AttemptOutcome.UNCERTAIN, now
    if not a.retryable:
        return DeliveryStatus.FAILED, AttemptOutcome.FAILED, now
    at = budget.next_attempt(since, now, delay_s, a.retry_after_s)
    if at is None:
        return DeliveryStatus.DEAD, AttemptOutcome.DEAD, now
    return DeliveryStatus.PENDING, AttemptOutcome.RETRY, at
