"""Background loops (outbox relay, consumer, dispatcher) run as daemon threads beside the HTTP app.

A loop retries transient failures itself and returns only when asked to stop. A loop that raises has met
a bug: readiness fails at once, and, in a served process (``shared.app.serve``), the process exits non-zero
``FATAL_EXIT_DELAY_S`` later so that the orchestrator restarts it, instead of limping on without the loop.

Logging: JSON lines carrying the context of the event being handled (service, event id, target, department).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TextIO, TypeVar

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

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


# --------------------------------------------------------------------------------------------- logging
# JSON lines with the standard library's logging and a small formatter, not a logging library: the fields
# needed are few and known (service, event, target, department), every log call in the code and in the
# libraries (uvicorn, kafka-python, alembic) already goes through logging, and a formatter adds no
# dependency and no second logging API. Context set with log_context() (the consumer loop sets it for each
# event it handles) appears on every line logged inside it, in any module.

_context: ContextVar[dict[str, str]] = ContextVar("wuxi_log_context", default={})  # noqa: B039 (never mutated)
# LogRecord attributes that are not extra fields.
_RECORD_KEYS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# The event fields that let one deviation be followed across the services, by their names in the event data.
EVENT_DATA_FIELDS = {"target_id": "target", "lead_department": "department", "department": "department",
                     "indicator": "indicator", "period": "period", "observation_id": "observation_id",
                     "alert_ids": "alert_ids"}
# A transaction that writes or handles more events than this logs one summary line at INFO (each at DEBUG):
# a bulk upload of 5,000 figures must not write 5,000 lines; a deviation, which comes alone, is logged whole.
LOG_EACH_UP_TO = 10
ACCESS_LOGGER = "wuxi.access"
T = TypeVar("T")


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` to every log line written inside the block (this thread or task only)."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_log_context() -> dict[str, str]:
    """The fields log_context() has set here."""
    return dict(_context.get())


def event_fields(event_id: str, event_type: str, data: dict[str, Any]) -> dict[str, object]:
    """The fields of one event's log lines: its id and type, and the target, department… it is about."""
    fields: dict[str, object] = {"event_id": event_id, "event_type": event_type}
    for key, name in EVENT_DATA_FIELDS.items():
        value = data.get(key)
        if value not in (None, "", [], ()):
            fields.setdefault(name, ",".join(map(str, value)) if isinstance(value, list | tuple) else value)
    return fields


def log_events(logger: logging.Logger, what: str, items: Sequence[T],
               fields: Callable[[T], dict[str, object]]) -> None:
    """One line per item with ``fields(item)`` (see event_fields), or a summary line when there are many."""
    if not items:
        return
    each = logging.INFO if len(items) <= LOG_EACH_UP_TO else logging.DEBUG
    if each == logging.DEBUG:
        logger.info("%s %d events", what, len(items), extra={"events": len(items)})
    if logger.isEnabledFor(each):  # the fields are built only for lines that are written
        for item in items:
            f = fields(item)
            logger.log(each, "%s event %s (%s)", what, f.get("event_id"), f.get("event_type"), extra=f)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, service, logger, thread, message, context and extra fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        doc.update(_context.get())
        doc.update({k: v for k, v in vars(record).items() if k not in _RECORD_KEYS and not k.startswith("_")})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exception"] = record.exc_text
        if record.stack_info:
            doc["stack"] = record.stack_info
        return json.dumps(doc, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} %(name)s [%(threadName)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = _context.get()
        return f"{line} {json.dumps(context, ensure_ascii=False)}" if context else line


class _OurHandler(logging.StreamHandler[TextIO]):
    """The stderr handler configure_logging installs (found again when it is called a second time)."""


def configure_logging(settings: ServiceSettings, service: str) -> None:
    """Log lines on stderr as JSON (or text, ``<P>LOG_FORMAT``) at ``<P>LOG_LEVEL``; access log per setting.

    Under a test runner that has its own root handlers (pytest's), those are left alone: only levels change.
    """
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    formatter = JsonFormatter(service) if settings.log_format == "json" else _TextFormatter(service)
    ours = [h for h in root.handlers if isinstance(h, _OurHandler)]
    if ours:
        ours[0].setFormatter(formatter)
    elif not root.handlers:
        handler = _OurHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per delivery is noise, failures are logged
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if settings.access_log else logging.WARNING)


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

