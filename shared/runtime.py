"""Background loops (outbox relay, consumer, dispatcher) run as daemon threads beside the HTTP app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class BackgroundLoops:
    """Starts named loops in threads and stops them together."""

    def __init__(self) -> None:
        self.stop_event = threading.Event()
        self.threads: dict[str, threading.Thread] = {}
        self.loops: dict[str, Callable[[threading.Event], None]] = {}

    def start(self, name: str, loop: Callable[[threading.Event], None]) -> None:
        """Run ``loop(stop_event)`` in a daemon thread."""
        t = threading.Thread(target=loop, args=(self.stop_event,), name=name, daemon=True)
        t.start()
        self.threads[name] = t
        self.loops[name] = loop

    def alive(self, name: str) -> None:
        """Raise unless the named loop is running and, when its owner has ``check_ready()``, ready."""
        t = self.threads.get(name)
        if t is None or not t.is_alive():
            raise RuntimeError(f"{name} is not running")
        check_ready = getattr(getattr(self.loops.get(name), "__self__", None), "check_ready", None)
        if check_ready is not None:
            check_ready()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Signal every loop to stop and wait for them."""
        self.stop_event.set()
        for t in self.threads.values():
            t.join(timeout=timeout_s)


def configure_logging(level: str) -> None:
    """Plain, timestamped logs on stderr."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per delivery is noise, failures are logged
