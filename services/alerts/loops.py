"""How the alerts service's periodic loops run: transient database failures retried, a bug ends the loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from shared.db import is_transient_error

log = logging.getLogger(__name__)


def run_every(interval_s: float, tick: Callable[[], object], stop: threading.Event, name: str) -> None:
    """Call ``tick`` every ``interval_s`` until ``stop``; a transient database failure is retried next round,
    anything else is a bug and ends the loop (readiness then fails)."""
    while not stop.is_set():
        try:
            tick()
        except Exception as exc:
            if not is_transient_error(exc):
                log.exception("%s stopped by a bug", name)
                raise
            log.warning("%s round failed (%s); retrying", name, type(exc).__name__)
        stop.wait(interval_s)
