"""The shared persistence pieces on real SQLite and PostgreSQL: aware UTC timestamps, leadership, tokens."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, text

from shared.adapters.leader import LeaderLock
from shared.db import UTCDateTime, make_engine
from shared.tokens import bearer_token, match_token, token_digest

_BEIJING = timezone(timedelta(hours=8))


def _table() -> tuple[MetaData, Table]:
    md = MetaData()
    return md, Table("t", md, Column("id", Integer, primary_key=True), Column("at", UTCDateTime, nullable=False))


def test_timestamps_with_an_offset_are_stored_and_compared_in_utc(database_url: str) -> None:
    engine = make_engine(database_url)
    md, t = _table()
    md.create_all(engine)
    nine_beijing = datetime(2024, 7, 1, 9, 0, tzinfo=_BEIJING)  # 01:00 UTC
    with engine.begin() as conn:
        conn.execute(t.insert(), [{"id": 1, "at": nine_beijing}])
    with engine.connect() as conn:
        back = conn.execute(select(t.c.at)).scalar_one()
        # 02:00 UTC is after 09:00 Beijing time; compared as wall times it would look 7 hours earlier.
        later = conn.execute(select(t.c.id).where(t.c.at < datetime(2024, 7, 1, 2, 0, tzinfo=UTC))).all()
    assert back == nine_beijing and back.tzinfo is not None and back.utcoffset() == timedelta(0)
    assert later == [(1,)]
    engine.dispose()


def test_a_naive_timestamp_is_refused(database_url: str) -> None:
    engine = make_engine(database_url)
    md, t = _table()
    md.create_all(engine)
    with pytest.raises(Exception, match="aware datetime"), engine.begin() as conn:
        conn.execute(t.insert(), [{"id": 1, "at": datetime(2024, 7, 1, 9, 0)}])
    with engine.connect() as conn:
        assert conn.execute(select(t.c.id)).all() == []
    engine.dispose()


_HOLD = """
import sys, time
from shared.db import make_engine
from shared.adapters.leader import LeaderLock
lock = LeaderLock(make_engine(sys.argv[1]), "job", 0x5EED_0001)
print("held" if lock.held() else "free", flush=True)
time.sleep(30)
"""


def test_one_replica_leads_and_a_killed_leader_frees_the_lock(database_url: str) -> None:
    other = subprocess.Popen([sys.executable, "-c", _HOLD, database_url], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        mine = LeaderLock(make_engine(database_url), "job", 0x5EED_0001)
        assert mine.held() is False  # another process leads
        other.kill()
        other.wait()
        assert mine.held() is True  # its lock went with it
        assert mine.held() is True  # and stays ours
        mine.release()
    finally:
        other.kill()
        other.wait()


def test_the_leader_checks_its_lock_connection_at_most_every_interval(database_url: str) -> None:
    engine = make_engine(database_url)
    now = [0.0]
    lock = LeaderLock(engine, "job", 0x5EED_0002, verify_every_s=0.1, monotonic=lambda: now[0])
    try:
        assert lock.held() is True
        if engine.dialect.name != "postgresql":
            return  # SQLite: an flock() on a file, nothing to check over a connection
        first = lock._conn
        assert first is not None
        pid = first.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as admin:  # the lock's connection breaks (as in a network cut or a restart)
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        now[0] = 0.05
        assert lock.held() is True and lock._conn is first  # within the interval: not asked again
        now[0] = 0.2
        assert lock.held() is True  # asked: the connection is gone, and the lock is taken again on a new one
        assert lock._conn is not first and lock._conn is not None
        assert lock._conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        lock.release()
        engine.dispose()


def test_tokens_match_by_hash_only() -> None:
    hashes = {"fgw": token_digest("secret-a"), "stats": token_digest("secret-b").upper()}
    assert match_token("secret-b", hashes) == "stats"
    assert match_token("secret-c", hashes) is None
    assert bearer_token("Bearer  secret-a ") == "secret-a"
    assert bearer_token("Basic secret-a") is None and bearer_token("Bearer ") is None and bearer_token(None) is None
