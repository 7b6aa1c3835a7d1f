"""The alerts service's vocabulary: statuses, kinds and roles as closed sets, and what is to be told to whom. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.messages import TargetStatusChanged


class AlertStatus(StrEnum):
    """An alert's state: firing → acknowledged → resolved (a worse severity makes it firing again)."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NotificationKind(StrEnum):
    """Why a department is told."""

    FIRING = "firing"
    ESCALATED = "escalated"  # the severity rose
    RESOLVED = "resolved"
    REMINDER = "reminder"  # still firing after the repeat interval
    OVERDUE = "overdue"  # critical and unacknowledged: a superior is told
    GROUPED = "grouped"  # several kinds in one grouped notification


class Role(StrEnum):
    """Why a department is among the recipients."""

    LEAD = "lead"
    CO = "co"
    RULE = "rule"  # a routing rule added it
    OVERDUE = "overdue"  # a superior up the administrative chain


class DeliveryStatus(StrEnum):
    """A notification's state in the delivery log."""

    PENDING = "pending"  # queued, or waiting for its next attempt
    SENT = "sent"
    FAILED = "failed"  # refused for good (a 4xx, an unknown mailbox): given up
    DEAD = "dead"  # the retry budget ran out: given up, published to <prefix>.notifications.dlq
    SUPPRESSED = "suppressed"  # muted by a silence, never sent
    INHIBITED = "inhibited"  # held back by an open alert through an inhibition rule (inhibited_by), never sent
    UNCERTAIN = "uncertain"  # the platform may have accepted it (timeout after sending) and cannot drop repeats


GIVEN_UP = (DeliveryStatus.FAILED, DeliveryStatus.DEAD, DeliveryStatus.UNCERTAIN)


class AttemptOutcome(StrEnum):
    """One line of the delivery log."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"
    DEAD = "dead"
    UNCERTAIN = "uncertain"
    SUPPRESSED = "suppressed"  # a silence created after it was queued held it back
    RESENT = "resent"  # an operator queued it again through the API
    REDRIVEN = "redriven"  # an operator re-drove it with the re-drive command
    REVIVED = "revived"  # its receiver came back while its retry budget lasted


def kind_of(kinds: list[str]) -> NotificationKind:
    """The kind of a notification carrying parts of these kinds."""
    distinct = set(kinds)
    return NotificationKind(distinct.pop()) if len(distinct) == 1 else NotificationKind.GROUPED


@dataclass(frozen=True)
class Outgoing:
    """One alert to tell one department about, and why."""

    alert_id: str
    kind: NotificationKind
    department: str
    role: Role
    event: TargetStatusChanged
    cause: str  # what caused it (event id, reminder time, escalation level): part of the idempotency key
    escalation_level: int = 0

    @property
    def severity(self) -> str:
        """The severity silences match: a recovery is "ok"."""
        return "ok" if self.kind == NotificationKind.RESOLVED else self.event.severity.value
