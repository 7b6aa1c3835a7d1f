"""When to try a failed notification again, and when to give it up. Pure.

Retries are bounded by elapsed time, not by a count: a receiver that is down for minutes must not cost a
lone notification its chances (each half-open probe used to spend one of a fixed number of attempts). A
notification is given up when its retry budget, counted from when it was queued (or re-sent), has run out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


def backoff_s(failures: int, base_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter" for the given number of consecutive failures (1-based).

    Half the delay is fixed so a dead receiver is never hammered; half is random so receivers that failed
    together do not retry together.
    """
    d = min(max_s, base_s * 2.0 ** (failures - 1))
    return d / 2 + rng.uniform(0, d / 2)


@dataclass(frozen=True)
class RetryBudget:
    """How long a notification is retried, counted from ``since`` (queued or re-sent)."""

    budget_s: float

    def deadline(self, since: datetime) -> datetime:
        """When the notification is given up."""
        return since + timedelta(seconds=self.budget_s)

    def next_attempt(self, since: datetime, now: datetime, delay_s: float,
                     retry_after_s: float | None) -> datetime | None:
        """When to try again (at least the receiver's Retry-After, never past the budget); None: give up now."""
        deadline = self.deadline(since)
        if now >= deadline:
            return None
        wait = max(delay_s, retry_after_s or 0.0)
        # A Retry-After beyond the budget still gets one last attempt when the budget ends.
        return min(now + timedelta(seconds=wait), deadline)
