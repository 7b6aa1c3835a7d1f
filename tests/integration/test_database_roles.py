"""Least privilege in production (issue 11, item 5): deploy/postgres/service-database.sql, run by psql on the
real PostgreSQL as compose's init script runs it, gives each service a role that owns its database and can
migrate it, and nothing more. Role names are unique to the test; roles and databases are dropped after it.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from services.ingest.main import MIGRATIONS as INGEST_MIGRATIONS
from shared.db import normalise_url, run_migrations
from tests.conftest import POSTGRES_PROBLEM, POSTGRES_URL

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(POSTGRES_PROBLEM is not None, reason=POSTGRES_PROBLEM or "")]
SQL = Path(__file__).resolve().parents[2] / "deploy" / "postgres" / "service-database.sql"
PSQL = shutil.which("psql") or "/usr/bin/psql"


@pytest.fixture
def service_roles() -> Iterator[list[str]]:
    """Two services' roles and databases made by the shipped SQL (ingest's and another's)."""
    assert POSTGRES_URL
    admin = make_url(normalise_url(POSTGRES_URL))
    names = [f"wx_role_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        for name in names:
            r = subprocess.run([PSQL, libpq, "--no-psqlrc", "--quiet", "-v", f"role={name}",
                                "-v", "password=pa'ss word@/#", "-f", str(SQL)],
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
        yield names
    finally:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        engine.dispose()


def _as(role: str, database: str) -> str:
    assert POSTGRES_URL
    return make_url(normalise_url(POSTGRES_URL)).set(username=role, password="pa'ss word@/#",
                                                     database=database).render_as_string(hide_password=False)


def test_each_role_owns_and_migrates_only_its_own_database(service_roles: list[str]) -> None:
    own, other = service_roles
    run_migrations(_as(own, own), INGEST_MIGRATIONS)  # the service creates its schema as its own role
    engine = create_engine(_as(own, own))
    with engine.connect() as conn:
        owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'observations'")).scalar()
        assert owner == own
        flags = conn.execute(text("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
                                  "WHERE rolname = current_user")).one()
        assert tuple(flags) == (False, False, False)
    engine.dispose()
    with create_engine(_as(own, own), isolation_level="AUTOCOMMIT").connect() as conn, \
            pytest.raises(ProgrammingError, match="permission denied to create database"):
        conn.execute(text("CREATE DATABASE wx_not_allowed"))
    # …and cannot even connect to another service's database.
    intruder = create_engine(_as(own, other))
    with pytest.raises(OperationalError, match="permission denied for database"):
        intruder.connect()
    intruder.dispose()
