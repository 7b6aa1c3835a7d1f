"""Throwaway PostgreSQL databases for tests, benchmarks and the drill: each run makes its own and drops them.

A run never uses a database as it finds it (a second run would inherit the first one's rows), and nothing
is left on the server afterwards, even when the run fails: use it as a context manager or call drop_all()
in a ``finally``.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.db import normalise_url


class ScratchDatabases:
    """Creates databases named ``<prefix>_<label>_<random>`` on a server and drops every one it made."""

    def __init__(self, admin_url: str, prefix: str = "wx") -> None:
        self.admin_url = normalise_url(admin_url)
        self.prefix = prefix
        self.created: list[str] = []

    def create(self, label: str = "") -> str:
        """Create an empty database and return its URL (same server, user and options as the admin URL)."""
        name = "_".join(p for p in (self.prefix, label, uuid.uuid4().hex[:12]) if p)
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database this object created (connections still open are cut)."""
        if not self.created:
            return
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for name in self.created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()
        self.created.clear()

    def __enter__(self) -> ScratchDatabases:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.drop_all()
