"""Background loops (outbox relay, consumer, dispatcher) run as daemon threads beside the HTTP app; logging."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

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


def configure_logging(settings: ServiceSettings, service: str) -> None:
    """Log lines on stderr as JSON (or text, ``<P>LOG_FORMAT``) at ``<P>LOG_LEVEL``; access log per setting.

    Under a test runner that has its own root handlers (pytest's), those are left alone: only levels change.
    """
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    formatter = JsonFormatter(service) if settings.log_format == "json" else _TextFormatter(service)
    ours = [h for h in root.handlers if getattr(h, "_wuxi", False)]
    if ours:
        ours[0].setFormatter(formatter)
    elif not root.handlers:
        handler = logging.StreamHandler()
        handler._wuxi = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        root.addHandler(handler)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per delivery is noise, failures are logged
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO if settings.access_log else logging.WARNING)
