"""Failures sorted by type, in one place for every background loop and the HTTP error handler.

- transient: the database or the broker is away, busy or rolled the transaction back (a lock timeout, a
  serialization failure, a dropped connection). Retry with backoff; nothing is wrong with the work itself.
- unstorable: one message's data can never be written (a value too long for its column, a number out of
  range, a constraint it breaks). Set that message aside (the dead-letter topic) and carry on with the rest.
- anything else is a bug: stop loudly, so that readiness fails and the orchestrator restarts the process.
"""

from __future__ import annotations

from kafka.errors import KafkaError

from shared import db

# The database's transient errors (shared/db.py), the broker's and the network's.
TRANSIENT: tuple[type[Exception], ...] = (*db.TRANSIENT_ERRORS, KafkaError, ConnectionError, TimeoutError)
# OverflowError: SQLite's driver refuses an integer beyond 64 bits before the database sees it.
UNSTORABLE: tuple[type[Exception], ...] = (*db.UNSTORABLE_ERRORS, OverflowError)


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same work later may succeed (the failure is not in the work itself)."""
    return db.is_transient_error(exc) or isinstance(exc, TRANSIENT)


def is_unstorable(exc: BaseException) -> bool:
    """Whether the data being written is what failed, so that the same data will fail again."""
    return isinstance(exc, UNSTORABLE) and not is_transient(exc)


def describe(exc: BaseException, limit: int = 1000) -> str:
    """A short, single-paragraph reason for logs and dead-letter headers (no SQL parameters)."""
    shown = db.driver_error(exc) or exc  # the driver's error names the real failure
    text = f"{type(shown).__name__}: {shown}"
    return " ".join(text.split())[:limit]


def dependency_of(exc: BaseException) -> str:
    """Which dependency a transient failure came from, as a metric label: database, broker or network."""
    if isinstance(exc, KafkaError):
        return "broker"
    if db.is_database_error(exc):
        return "database"
    return "network"
