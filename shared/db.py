"""Database engines, URLs, column types, migrations and error sorting shared by the services.

Each service passes its own URL and history. With shared/inbox.py, shared/outbox.py and shared/adapters/, this
is where the shared code touches SQLAlchemy; the rest of shared/ names a connection only as ``Connection``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import BigInteger, DateTime, Engine, Integer, all_, any_, bindparam, create_engine, event, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection as Connection  # re-exported: the type handlers are given
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# SQLite autoincrements only INTEGER PRIMARY KEY; the variant keeps ids 64-bit elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time: written as UTC, read back as an aware UTC datetime, on SQLite and PostgreSQL alike.

    SQLite has no time zone type: without this, an aware value with +08:00 would be stored as its local
    wall time and compared with UTC values 8 hours off, and every read would come back naive. A naive value
    is refused, since nobody can tell which zone it meant.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"a timestamp must be an aware datetime, got {value!r}")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value  # the DateTime column's value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (the driver we install)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` in it, percent-encoded (an @ or / in a password would break the URL)."""
    return make_url(url).set(password=password).render_as_string(hide_password=False)


SQLITE_BUSY_TIMEOUT_S = 30.0  # how long a SQLite write waits for another process's lock before failing


def make_engine(url: str, *, pool_size: int = 10, busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S) -> Engine:
    """An engine for SQLite (WAL, busy timeout) or PostgreSQL (pre-ping, at most ``2 * pool_size`` connections)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets the API, the relay and the consumer read while one writes; NORMAL is durable
            # across process kills (only an OS crash can lose the last commits).
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # SQLite allows one writer. Threads of this process queue on a lock, because SQLite's own busy
        # handler sleeps in growing steps (up to 100 ms) and turns contention into latency; other processes
        # sharing the file still wait on busy_timeout.
        lock = threading.RLock()

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(conn: Connection) -> None:
            lock.acquire()
            try:
                # Take the write lock at BEGIN, so a read that later writes cannot fail with "database is
                # locked" halfway through its transaction.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                lock.release()
                raise
            conn.info["sqlite_write_lock"] = True

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_release(conn: Connection) -> None:
            # A BEGIN IMMEDIATE that failed (another process held the database past the busy timeout) is
            # still rolled back by SQLAlchemy: releasing then would raise RuntimeError over the real
            # OperationalError, which callers retry.
            if conn.info.pop("sqlite_write_lock", False):
                lock.release()

        # pysqlite's own transaction handling must be off for the BEGIN above to take effect.
        @event.listens_for(engine, "connect")
        def _sqlite_autocommit_off(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            dbapi_conn.isolation_level = None

        return engine
    # Up to twice ``pool_size`` connections, all kept once opened. With a pool of N and N overflow, every
    # connection past N was closed when returned and opened again by the next request: under 32 concurrent
    # single POSTs a new PostgreSQL session (a server process) for a third of them.
    return create_engine(url, pool_pre_ping=True, pool_size=2 * pool_size, max_overflow=0)


MIGRATION_LOCK_KEY = 0x0B0C_D8A7  # PostgreSQL advisory lock held while a replica migrates


def run_migrations(url: str, migrations_dir: Path, *, timeout_s: float = 60.0) -> None:
    """Apply the service's Alembic history up to head, waiting for the database to come up."""
    url = normalise_url(url)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            engine = make_engine(url, pool_size=1)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            break
        except OperationalError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("waiting for the database: %s", exc)
            time.sleep(0.5)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(cfg, "head")  # SQLite: the migration's BEGIN IMMEDIATE serialises replicas
        return
    # Replicas starting together would race to create the same tables: one migrates while the others
    # wait on an advisory lock, then find the database at head.
    lock_engine = make_engine(url, pool_size=1)
    try:
        with lock_engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                command.upgrade(cfg, "head")
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
    finally:
        lock_engine.dispose()


def ping(engine: Engine) -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


# Database errors by type, for shared/failures.py. OperationalError covers SQLite's "database is locked" (a
# BEGIN IMMEDIATE past the busy timeout) and PostgreSQL's lock timeouts, serialization failures and deadlocks
# (psycopg's TransactionRollback and LockNotAvailable are OperationalErrors); InterfaceError a connection
# closed under us; PoolTimeoutError no free connection in the pool.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeoutError)
# The data being written is what the database refused: a value too long, a number out of range, a constraint.
UNSTORABLE_ERRORS: tuple[type[Exception], ...] = (DataError, IntegrityError)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database or its connection pool."""
    return isinstance(exc, DBAPIError | PoolTimeoutError)


def is_transient_error(exc: BaseException) -> bool:
    """A database failure worth retrying (database locked or restarting, connection lost, pool empty), not a bug."""
    return isinstance(exc, TRANSIENT_ERRORS) or connection_invalidated(exc)


def connection_invalidated(exc: BaseException) -> bool:
    """Whether the database connection broke under ``exc`` (whatever its class, a retry gets a new one)."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def driver_error(exc: BaseException) -> BaseException | None:
    """The database driver's own exception behind ``exc``, when there is one (it names the real failure)."""
    return exc.orig if isinstance(exc, DBAPIError) else None


def one_of(conn: Connection, column: Any, values: Sequence[Any], *, negate: bool = False) -> Any:
    """``column IN values`` (``NOT IN`` with ``negate``): on PostgreSQL as ``= ANY`` (``<> ALL``) of one array.

    An IN list binds one parameter per value, and psycopg splits the statement's text at every placeholder on
    each execution: with the hundreds of ids of a batch that was a fifth of a consumer's time. Elsewhere (SQLite)
    the expanding IN; callers keep its lists within SQLite's parameter limit.
    """
    if conn.dialect.name == "postgresql":
        array = bindparam(None, list(values), type_=postgresql.ARRAY(column.type))
        return column != all_(array) if negate else column == any_(array)
    return column.not_in(list(values)) if negate else column.in_(list(values))


def update_rows(conn: Connection, table: Any, key: Any, changes: dict[Any, dict[str, Any]], *where: Any) -> None:
    """Update rows of ``table`` by their ``key`` column, each with its own fields (``changes``: key -> fields).

    One executemany per set of fields changed; ``where``: conditions every row must also meet (plain binds only:
    an expanding ``IN`` cannot be run as an executemany).
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for k, fields in changes.items():
        groups.setdefault(tuple(sorted(fields)), []).append({"_key": k, **fields})
    for names, rows in groups.items():
        conn.execute(update(table).where(key == bindparam("_key"), *where)
                     .values(**{name: bindparam(name) for name in names}), rows)


# Below this many rows an executemany is as fast as COPY and needs no set-up.
COPY_FROM_ROWS = 100


def insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in ``conn``'s transaction.

    On PostgreSQL, from ``COPY_FROM_ROWS`` rows on, through ``COPY … FROM STDIN`` on the same connection:
    SQLAlchemy's and psycopg's executemany cost about 35% of ingest's CPU per 1,000-row batch (parameters
    processed per row, docs/benchmarks.md), COPY streams the rows. Column types' bind processing (UTCDateTime
    refusing a naive time) still applies; a driver error is raised as SQLAlchemy's (a unique key broken:
    ``IntegrityError``), as the executemany would.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg" or len(rows) < COPY_FROM_ROWS:
        conn.execute(table.insert(), rows)
        return
    names = list(rows[0])
    columns = [table.c[n] for n in names]
    binds = [(i, c.type.bind_processor(conn.dialect)) for i, c in enumerate(columns)]
    binds = [(i, b) for i, b in binds if b is not None]
    statement = f"COPY {conn.dialect.identifier_preparer.format_table(table)} " \
                f"({', '.join(conn.dialect.identifier_preparer.quote(n) for n in names)}) FROM STDIN"
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                values = [row[n] for n in names]
                for i, bind in binds:
                    values[i] = bind(values[i])
                copy.write_row(values)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
