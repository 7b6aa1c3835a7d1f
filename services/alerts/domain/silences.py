"""Silences: mute notifications by target, department or severity for a period. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Silence:
    """Every matcher that is set must match; a silence with none set is refused by the API."""

    id: str
    target_id: str | None
    department: str | None
    severity: str | None
    starts_at: datetime
    ends_at: datetime

    def active(self, now: datetime) -> bool:
        """Whether the silence holds at ``now`` (it expires by itself at ``ends_at``)."""
        return self.starts_at <= now < self.ends_at

    def matches(self, *, target_id: str, department: str, severity: str) -> bool:
        """Whether a notification about ``target_id`` to ``department`` at ``severity`` is muted by this."""
        return ((self.target_id is None or self.target_id == target_id)
                and (self.department is None or self.department == department)
                and (self.severity is None or self.severity == severity))


def silenced_by(silences: list[Silence], now: datetime, *, target_id: str, department: str,
                severity: str) -> Silence | None:
    """The first active silence muting this notification, if any."""
    for s in silences:
        if s.active(now) and s.matches(target_id=target_id, department=department, severity=severity):
            return s
    return None
