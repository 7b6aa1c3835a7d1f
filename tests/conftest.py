"""Fixtures shared by the test suites: a real broker per session, real databases, a real HTTP receiver.

PostgreSQL tests run when TEST_POSTGRES_URL is set (each test gets a fresh database, dropped afterwards);
with REQUIRE_POSTGRES=1 (as in CI) a missing or unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from devstack.scratchdb import ScratchDatabases
from shared.db import normalise_url

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def _postgres_problem() -> str | None:
    """Why the PostgreSQL variants cannot run here, or None when they can (checked once, at collection)."""
    if not POSTGRES_URL:
        return "TEST_POSTGRES_URL is not set"
    try:
        engine = create_engine(normalise_url(POSTGRES_URL), connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"TEST_POSTGRES_URL={POSTGRES_URL} is unreachable: {exc}"
    return None


POSTGRES_PROBLEM = _postgres_problem()


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_POSTGRES and POSTGRES_PROBLEM:
        raise pytest.UsageError(f"REQUIRE_POSTGRES=1 but {POSTGRES_PROBLEM}")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """One Tansu broker for the whole test session, on a free loopback port."""
    b = TansuBroker(log_path=tmp_path_factory.mktemp("broker") / "broker.log")
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def _group_auditor(broker: TansuBroker) -> Iterator[tuple[Any, list[str]]]:
    """An admin client of the shared broker, and the consumer groups the services join when nobody names one
    (their settings' defaults)."""
    from kafka import KafkaAdminClient

    from services.alerts.config import AlertsSettings
    from services.evaluator.config import EvaluatorSettings

    groups = [str(cls.model_fields["consumer_group"].default) for cls in (EvaluatorSettings, AlertsSettings)]
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    yield admin, groups
    admin.close()


@pytest.fixture(autouse=True)
def _owns_its_consumer_groups(request: pytest.FixtureRequest) -> Iterator[None]:
    """No test joins a consumer group it does not own: after every test that used the shared broker, the
    services' default groups have committed nothing (a test's services join groups named after its topic
    prefix). Tansu does not list groups, so the offsets are what can be read."""
    if "broker" not in request.fixturenames:
        yield
        return
    admin, groups = request.getfixturevalue("_group_auditor")

    def committed() -> dict[str, set[str]]:
        return {group: {f"{tp.topic}[{tp.partition}]@{o.offset}" for tp, o in
                        admin.list_group_offsets(group).get(group, {}).items()}
                for group in groups}

    before = committed()
    yield
    for group, offsets in committed().items():
        if offsets - before[group]:
            pytest.fail(f"{request.node.nodeid} committed offsets in the default consumer group {group!r} on the "
                        f"shared broker ({sorted(offsets - before[group])}): give its services a group of their "
                        f"own, named after the test's topic prefix", pytrace=False)


# Throwaway databases on the test PostgreSQL server (devstack/scratchdb.py), dropped at the end of the session.
PostgresDatabases = ScratchDatabases


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    """Throwaway databases on the test PostgreSQL server, dropped at the end of the session."""
    assert POSTGRES_URL is not None
    dbs = PostgresDatabases(POSTGRES_URL, prefix="wx")
    yield dbs
    dbs.drop_all()


# Without a reachable PostgreSQL the PostgreSQL variants are not run (locally); with REQUIRE_POSTGRES=1, as in
# CI, the run fails at start instead.
_POSTGRES_PARAM = pytest.param("postgres", marks=[pytest.mark.postgres,
                                                  pytest.mark.skipif(POSTGRES_PROBLEM is not None,
                                                                     reason=POSTGRES_PROBLEM or "")])


@pytest.fixture(params=["sqlite", _POSTGRES_PARAM])
def db_factory(request: pytest.FixtureRequest, tmp_path: Path):
    """A function returning a fresh, empty database URL of the parametrised kind (SQLite or PostgreSQL)."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres").create
    counter = iter(range(1000))
    return lambda: f"sqlite:///{tmp_path / f'db{next(counter)}.sqlite'}"


@pytest.fixture
def database_url(db_factory) -> str:
    """One fresh, empty database URL (SQLite, and PostgreSQL when available)."""
    return db_factory()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP server recording the notifications it receives."""
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def topic_prefix() -> str:
    """A topic prefix unique to the test, so tests sharing the broker never see each other's events."""
    return f"t{uuid.uuid4().hex[:10]}"
