"""Releases waiting parts as one notification per receiver, like Alertmanager's aggregation groups.

A receiver's (department and channel) group leaves once its first part waited group_wait and its previous
group is at least group_interval old. Only the dispatcher's leader flushes (one replica at a time); the
parts are claimed in the same transaction as the notification is written, and the group's idempotency key
is derived from the parts it holds, so two replicas racing for the same parts cannot send them under two
keys: the second claim fails and rolls back, or its insert meets the same key.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

from services.alerts.adapters.db import Database
from services.alerts.adapters.groups import ClaimLost
from services.alerts.adapters.notifications import DuplicateKey
from services.alerts.channels.base import Destination
from services.alerts.domain.directory import ChannelType
from services.alerts.pipeline import Rendering, part_from_doc
from services.alerts.receivers import Receivers

log = logging.getLogger(__name__)


def group_key(receiver: str, part_keys: list[str]) -> str:
    """A group's idempotency key: the same for the same parts to the same receiver."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"group/{receiver}/{','.join(sorted(part_keys))}").hex


class GroupFlusher:
    """Turns due groups of waiting parts into notifications."""

    def __init__(self, db: Database, receivers: Receivers, rendering: Rendering, *, group_wait_s: float,
                 group_interval_s: float) -> None:
        self.db = db
        self.receivers = receivers
        self.rendering = rendering
        self.wait = timedelta(seconds=group_wait_s)
        self.interval = timedelta(seconds=group_interval_s)

    def flush(self, now: datetime) -> int:
        """Release due groups (each in its own transaction); returns how many notifications were queued."""
        with self.db.read() as repos:
            oldest = repos.groups.oldest_waiting()
            last = repos.groups.last_flushed(list(oldest)) if oldest else {}
        due = [ref for ref, t in oldest.items()
               if t + self.wait <= now and (ref not in last or last[ref] + self.interval <= now)]
        queued = 0
        for ref in due:
            try:
                queued += self._flush_one(ref, ref in last, now)
            except (ClaimLost, DuplicateKey) as exc:
                log.info("group for %s: %s", ref, exc)
        return queued

    def _flush_one(self, ref: str, known: bool, now: datetime) -> int:
        with self.db.transaction() as repos:
            rows = repos.groups.waiting(ref)
            if not rows:
                return 0
            # A receiver configured when its parts were queued but not now still gets its notification:
            # the dispatcher records it as failed ("not configured any more") instead of parts waiting forever.
            dest = self.receivers.resolve(ref) or Destination(ref, ChannelType(rows[0].channel), "")
            parts, causes = zip(*(part_from_doc(json.loads(r.content)) for r in rows), strict=True)
            key = group_key(ref, [r.part_key or f"item-{r.id}" for r in rows])
            nid = repos.notifications.add_one(self.rendering.row(dest, rows[0].department, parts, causes, key, now))
            repos.groups.claim([r.id for r in rows], nid)
            repos.groups.flushed(ref, now, known)
        return 1

    def next_in(self, now: datetime) -> float | None:
        """Seconds until the next group could be due (None when nothing waits)."""
        with self.db.read() as repos:
            t = repos.groups.first_waiting_since()
        if t is None:
            return None
        return max(0.0, (t + self.wait - now).total_seconds())
