"""Leadership among replicas sharing a database: one holder at a time for a named job (relay, dispatcher).

- PostgreSQL: a session advisory lock on a connection kept open for as long as the leadership. A killed
  replica's connection closes and its lock goes with it; a replica whose connection broke (a PostgreSQL
  restart, a network cut) has lost the lock and must stop acting as leader until it wins it again. The
  connection is checked (a ``SELECT 1``) at most every ``verify_every_s`` (0.1 s): the dispatcher asks after
  every delivery, and a round trip each time was a sixth of its loop under a burst. A broken connection is so
  noticed within that interval, well inside the other replicas' poll interval (0.5 s) for taking the lock.
- SQLite: replicas share one database file, so the process holding an flock() on a file beside it leads.
  flock() locks belong to the open file and go with a killed process. Holders in one process (only tests
  run several services on one database) share the process's lock.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable
from typing import IO

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

# SQLite: lock file path -> the open, flock()ed file, for this process.
_SQLITE_LOCKS: dict[str, IO[bytes]] = {}
_SQLITE_LOCKS_GUARD = threading.Lock()


class LeaderLock:
    """Whether this replica holds the named leadership; ``held()`` takes it when it is free."""

    def __init__(self, engine: Engine, name: str, key: int, *, verify_every_s: float = 0.1,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.name = name  # names the SQLite lock file: <database>.<name>-lock
        self.key = key  # the PostgreSQL advisory lock key, constant per job
        self.verify_every_s = verify_every_s
        self._monotonic = monotonic
        self._verified = 0.0  # monotonic time the lock's connection last answered
        self._conn: Connection | None = None
        self._path: str | None = None

    def held(self) -> bool:
        """True when this replica leads (taking the lock if it is free), False when another replica does."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return self._held_sqlite()
        if dialect != "postgresql":
            return True
        if self._conn is not None:
            if self._monotonic() - self._verified < self.verify_every_s:
                return True
            try:
                self._conn.execute(select(1))
                self._verified = self._monotonic()
                return True
            except Exception:
                log.warning("%s: the leader lock's connection broke; leadership lost", self.name)
                self.release()
        conn = self.engine.connect()
        try:
            got = bool(conn.execute(select(func.pg_try_advisory_lock(self.key))).scalar())
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if got:
            self._conn, self._verified = conn, self._monotonic()
            return True
        conn.close()
        return False

    def release(self) -> None:
        """Give the leadership up (closing the lock's connection or file)."""
        if self._path is not None:
            with _SQLITE_LOCKS_GUARD:
                f = _SQLITE_LOCKS.pop(self._path, None)
            if f is not None:
                f.close()
            self._path = None
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                log.debug("%s: closing the lock connection failed", self.name, exc_info=True)
            self._conn = None

    def _held_sqlite(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True
        path = f"{database}.{self.name}-lock"
        with _SQLITE_LOCKS_GUARD:
            if path in _SQLITE_LOCKS:
                self._path = path
                return True
            f = open(path, "a+b")  # noqa: SIM115 - held open as long as the leadership
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                return False
            _SQLITE_LOCKS[path] = f
        self._path = path
        return True
