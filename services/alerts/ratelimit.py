"""Per-robot send limits: a sliding window of N messages per window, and a pause when the platform says so.

WeCom and DingTalk group robots take about 20 messages a minute (DingTalk then refuses everything for 10
minutes); Feishu's custom bots take 100 a minute and 5 a second. The dispatcher asks for a slot before each
robot message, keyed by the robot's URL, so every notification to one robot shares one window whichever
department's receiver it came from. Only the dispatcher's leader sends, so one process holds the windows;
a new leader fills them from the delivery log first (recent sends by the previous leader count).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable


class SlidingWindow:
    """At most ``limit(key)`` acquisitions per ``window_s`` for each key, and pauses (``block``) per key."""

    def __init__(self, limit: Callable[[str], int], window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._sent: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> deque[float]:
        q = self._sent.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def remaining(self, key: str) -> int:
        """Slots free now (0 while paused)."""
        with self._lock:
            now = self.clock()
            if self._blocked.get(key, 0.0) > now:
                return 0
            return max(0, self.limit(key) - len(self._window(key, now)))

    def try_acquire(self, key: str) -> bool:
        """Take a slot if one is free now."""
        with self._lock:
            now = self.clock()
            if self._blocked.get(key, 0.0) > now:
                return False
            q = self._window(key, now)
            if len(q) >= self.limit(key):
                return False
            q.append(now)
            return True

    def release(self, key: str) -> None:
        """Give back the slot taken last (nothing was sent with it)."""
        with self._lock:
            q = self._sent.get(key)
            if q:
                q.pop()

    def wait_s(self, key: str) -> float:
        """Seconds until a slot is free (0 when one is)."""
        with self._lock:
            now = self.clock()
            blocked = max(0.0, self._blocked.get(key, 0.0) - now)
            q = self._window(key, now)
            full = q[len(q) - self.limit(key)] + self.window_s - now if len(q) >= self.limit(key) else 0.0
            return max(blocked, full, 0.0)

    def block(self, key: str, seconds: float) -> None:
        """Send nothing to ``key`` for ``seconds`` (the platform answered that we send too fast)."""
        with self._lock:
            until = self.clock() + seconds
            self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    def blocked_for(self, key: str) -> float:
        """Seconds the key stays paused (0 when not)."""
        with self._lock:
            return max(0.0, self._blocked.get(key, 0.0) - self.clock())

    def seed(self, key: str, ages_s: Iterable[float]) -> None:
        """Count sends made ``ages_s`` seconds ago (by a previous leader) against the key's window."""
        with self._lock:
            now = self.clock()
            q = self._window(key, now)
            merged = sorted([*q, *(now - a for a in ages_s if 0 <= a < self.window_s)])
            self._sent[key] = deque(merged)
