"""Fault points: places where a test build of the stack can be made to crash, exactly there, on purpose.

``fault_point("name")`` does nothing unless the process was started with both ``WX_TEST_BUILD=1`` (set only by
the test harness, ``devstack.Stack(faults=...)``) and ``WX_FAULT_POINT=name``; ``WX_FAULT_AFTER=N`` (default 1)
makes it fire on the N-th pass. Firing writes one marker line to stderr and kills the process with SIGKILL:
no ``finally``, no atexit, no flushed buffers, no closed connections, as a power cut would. A stray
``WX_FAULT_POINT`` in a production deployment does nothing without ``WX_TEST_BUILD``. The environment is read
once, at import: an unarmed point costs one comparison. docs/testing.md lists the points and what each crash
must (not) change.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping

# The points the services call (docs/testing.md, "Crashes at the risky moments").
POINTS = frozenset({
    "alerts.dispatcher.delivered",  # the receiver took the notification; its outcome is not recorded yet
    "consumer.after_db_commit",  # a batch's transaction committed; its Kafka offsets are not
    "outbox.after_send",  # the broker acknowledged the batch (acks=all); the rows are not marked sent
    "consumer.partitions_revoked",  # a rebalance takes partitions from this member, mid-join
})
MARKER = "WX_FAULT_POINT_FIRED"


def _armed_from(env: Mapping[str, str]) -> tuple[str | None, int]:
    """(the armed point or None, the pass it fires on) from an environment."""
    if env.get("WX_TEST_BUILD") != "1":
        return None, 0
    name = env.get("WX_FAULT_POINT") or None
    if name is not None and name not in POINTS:
        raise ValueError(f"WX_FAULT_POINT：未知的故障点 {name!r}（可选：{', '.join(sorted(POINTS))}）"
                         f" / unknown fault point {name!r}")
    raw = env.get("WX_FAULT_AFTER", "1")
    try:
        after = int(raw)
    except ValueError:
        after = 0
    if after < 1:
        raise ValueError(f"WX_FAULT_AFTER：须为正整数，收到 {raw!r} / must be a positive integer, got {raw!r}")
    return name, after


_ARMED, _AFTER = _armed_from(os.environ)
_passes = 0
_lock = threading.Lock()


def fault_point(name: str) -> None:
    """Crash the process here when this point is armed and this is its WX_FAULT_AFTER-th pass; else nothing."""
    if name != _ARMED:  # the hot path: one comparison (None in every non-test process)
        return
    global _passes
    with _lock:
        _passes += 1
        if _passes != _AFTER:
            return
        # os.write, not print or logging: no buffer between the marker and the kill.
        os.write(2, f"{MARKER} {name} pass={_passes} pid={os.getpid()}\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
