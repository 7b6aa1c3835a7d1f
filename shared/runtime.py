"""Background loops (outbox relay, consumer, dispatcher) run as daemon threads beside the HTTP app.

A loop retries transient failures itself and returns only when asked to stop. A loop that raises has met
a bug: readiness fails at once, and, in a served process (``shared.app.serve``), the process exits non-zero
``FATAL_EXIT_DELAY_S`` later so that the orchestrator restarts it, instead of limping on without the loop.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

# Long enough for a readiness probe to see the failure (and for the log to be flushed), short enough that
# the replacement starts soon.
FATAL_EXIT_DELAY_S = 3.0
# Exit status of a process whose background loop stopped on a bug (EX_SOFTWARE in sysexits.h).
FATAL_EXIT_STATUS = 70

FatalHandler = Callable[[str, BaseException], None]


class BackgroundLoops:
    """Starts named loops in threads and stops them together."""

    def __init__(self, on_fatal: FatalHandler | None = None) -> None:
        self.stop_event = threading.Event()
        self.threads: dict[str, threading.Thread] = {}
        self.loops: dict[str, Callable[[threading.Event], None]] = {}
        self.failed: dict[str, BaseException] = {}
        self.on_fatal = on_fatal

    def start(self, name: str, loop: Callable[[threading.Event], None]) -> None:
        """Run ``loop(stop_event)`` in a daemon thread."""

        def run() -> None:
            try:
                loop(self.stop_event)
            except BaseException as exc:
                self.failed[name] = exc
                log.critical("background loop %s stopped by an unexpected error", name, exc_info=exc)
                (self.on_fatal or fatal_handler)(name, exc)

        t = threading.Thread(target=run, name=name, daemon=True)
        t.start()
        self.threads[name] = t
        self.loops[name] = loop

    def alive(self, name: str) -> None:
        """Raise unless the named loop is running and, when its owner has ``check_ready()``, ready."""
        if name in self.failed:
            raise RuntimeError(f"{name} stopped on an unexpected error")
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


class _Stoppable(Protocol):
    should_exit: bool  # uvicorn.Server's flag: stop serving, run the lifespan's shutdown, return from run()


class ExitOnFatal:
    """The served process's answer to a loop stopped by a bug: shut down gracefully, then exit non-zero."""

    def __init__(self, server: _Stoppable) -> None:
        self.server = server
        self.status: int | None = None
        self._lock = threading.Lock()

    def __call__(self, name: str, exc: BaseException) -> None:
        with self._lock:
            if self.status is not None:
                return
            self.status = FATAL_EXIT_STATUS
        log.critical("exiting with status %d in %.0fs: background loop %s stopped", FATAL_EXIT_STATUS,
                     FATAL_EXIT_DELAY_S, name)
        threading.Timer(FATAL_EXIT_DELAY_S, self._shut_down).start()

    def _shut_down(self) -> None:
        # uvicorn stops serving and runs the lifespan's shutdown (loops, engine); serve() then exits with
        # self.status. A shutdown that hangs is cut short.
        self.server.should_exit = True
        timer = threading.Timer(30.0, os._exit, args=(FATAL_EXIT_STATUS,))
        timer.daemon = True
        timer.start()


def _log_only(name: str, exc: BaseException) -> None:
    """In tests and embedded use: the failure is logged and readiness fails; the process stays."""


fatal_handler: FatalHandler = _log_only


def exit_process_on_fatal(server: _Stoppable) -> ExitOnFatal:
    """Make a loop stopped by a bug end this process, through ``server`` (called by ``shared.app.serve``)."""
    global fatal_handler
    handler = ExitOnFatal(server)
    fatal_handler = handler
    return handler


def configure_logging(level: str) -> None:
    """Plain, timestamped logs on stderr."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s",
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per delivery is noise, failures are logged
