"""What a target's status change does to its alert: open it, escalate it, resolve it, or nothing. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.messages import Severity

_RANK = {Severity.OK: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Action(StrEnum):
    """The alert transition a status change causes."""

    OPEN = "firing"  # no open alert and the target deviates: notify
    ESCALATE = "escalated"  # open alert, severity rose: notify again
    UPDATE = "updated"  # open alert, still deviating, not worse: record, do not notify
    RESOLVE = "resolved"  # open alert, target back on track: send the recovery
    IGNORE = "ignored"  # no open alert and nothing wrong


@dataclass(frozen=True)
class OpenAlert:
    """The state of a target's open alert that decisions depend on."""

    id: str
    severity: Severity


def decide(open_alert: OpenAlert | None, severity: Severity) -> Action:
    """The transition for a new severity given the target's open alert, if any."""
    deviating = severity != Severity.OK
    if open_alert is None:
        return Action.OPEN if deviating else Action.IGNORE
    if not deviating:
        return Action.RESOLVE
    if _RANK[severity] > _RANK[open_alert.severity]:
        return Action.ESCALATE
    return Action.UPDATE
