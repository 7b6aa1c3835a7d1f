"""The consumer loop sorts failures by type, on a real broker and real databases (issue 11, item 8).

Already processed: skipped (also when an overlapping owner recorded it meanwhile). Transient (SQLite held
locked by another process past the busy timeout): retried until it passes. Refused by the database (a value
too long for its column): dead-lettered alone, the rest of its batch processed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import Connection

from devstack.broker import TansuBroker
from shared.db import make_engine, run_migrations
from shared.kafka import ensure_topics
from shared.messages import Envelope, EventData, ObservationRecorded, encode, envelope_for
from tests.conftest import POSTGRES_PROBLEM, PostgresDatabases
from tests.integration.consumer_support import (
    EVALUATOR_MIGRATIONS,
    NOW,
    consuming,
    events,
    obs,
    produce,
    read_all,
    settings,
    wait_for,
)
from tests.integration.consumer_support import processed_events as inbox


def _processed(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())


def test_sqlite_locked_by_another_process_past_the_busy_timeout_is_retried(
        broker: TansuBroker, topic_prefix: str, tmp_path: Path) -> None:
    db = tmp_path / "locked.sqlite"
    url = f"sqlite:///{db}"
    run_migrations(url, EVALUATOR_MIGRATIONS)
    s = settings(url, broker.bootstrap, topic_prefix, sqlite_busy_timeout_s=0.3)
    topic = f"{topic_prefix}.observations"
    ensure_topics(s, [topic, f"{topic}.dlq"])
    # Another process takes SQLite's write lock and holds it well past the consumer's busy timeout.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN IMMEDIATE');"
        " print('locked', flush=True); sys.stdin.readline()"), str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        produce(s, topic, events(3))
        handled: list[str] = []
        with consuming(s, topic, lambda conn, env, data: handled.append(env.id), group=f"{topic_prefix}-g") as run:
            wait_for(lambda: run.metric("transient_failures_total", loop="consumer", dependency="database") >= 2,
                     what="the consumer to meet the lock and retry")
            assert run.loop.crashed is None and run.thread.is_alive()
            assert holder.stdin is not None
            holder.stdin.write("\n")  # release the lock
            holder.stdin.flush()
            wait_for(lambda: run.messages(topic, "processed") == 3, what="the batch once the lock is gone")
            assert run.loop.crashed is None
        engine = make_engine(url)
        assert _processed(engine) == 3
        engine.dispose()
    finally:
        holder.kill()
        holder.wait()


class _NoteTaker:
    """A handler writing each observation's id into a column of 8 characters: longer ones cannot be stored."""

    def __init__(self) -> None:
        self.begun = 0

    def begin_batch(self, conn: Connection, items: list[tuple[Envelope, EventData]]) -> None:
        self.begun += 1

    def end_batch(self, conn: Connection) -> None:
        pass

    def __call__(self, conn: Connection, envelope: Envelope, data: EventData) -> None:
        assert isinstance(data, ObservationRecorded)
        conn.execute(text("INSERT INTO notes (event_id, note) VALUES (:e, :n)"),
                     {"e": envelope.id, "n": data.observation_id})


def _notes_table(engine: Engine) -> None:
    with engine.begin() as conn:
        # VARCHAR(8) refuses longer values on PostgreSQL (DataError); SQLite needs the CHECK (IntegrityError).
        conn.execute(text("CREATE TABLE notes (event_id VARCHAR(64) PRIMARY KEY, "
                          "note VARCHAR(8) NOT NULL CHECK (length(note) <= 8))"))


def test_a_message_the_database_refuses_is_dead_lettered_alone(database_url: str, broker: TansuBroker,
                                                               topic_prefix: str) -> None:
    run_migrations(database_url, EVALUATOR_MIGRATIONS)
    s = settings(database_url, broker.bootstrap, topic_prefix)
    engine = make_engine(database_url)
    _notes_table(engine)
    topic = f"{topic_prefix}.observations"
    ensure_topics(s, [topic, f"{topic}.dlq"])
    batch = [obs(i, observation_id=f"ok{i}") for i in range(5)]
    batch.insert(2, obs(9, observation_id="far-too-long-for-eight"))
    envelopes = [envelope_for(d, source="/t", time=NOW) for d in batch]
    produce(s, topic, [encode(e) for e in envelopes])
    handler = _NoteTaker()
    with consuming(s, topic, handler, group=f"{topic_prefix}-g", engine=engine) as run:
        wait_for(lambda: run.messages(topic, "invalid") == 1 and run.messages(topic, "processed") == 5,
                 what="five processed and one dead-lettered")
        assert run.loop.crashed is None and run.thread.is_alive()
    with engine.connect() as conn:
        notes = sorted(conn.execute(text("SELECT note FROM notes")).scalars())
    assert notes == [f"ok{i}" for i in range(5)]
    assert _processed(engine) == 5  # the refused one is not recorded: a re-drive processes it
    [dead] = read_all(broker.bootstrap, f"{topic}.dlq", 1)
    assert dead.value == encode(envelopes[2])
    headers = dict(dead.headers)
    assert headers["dlq-reason"].startswith(b"the database refused it:"), headers
    assert headers["dlq-topic"] == topic.encode()
    assert handler.begun >= 2  # the batch hooks ran for the batch, then per message while isolating
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_PROBLEM is not None, reason=POSTGRES_PROBLEM or "")
def test_an_overlapping_owner_recording_an_event_first_makes_it_a_duplicate(
        postgres: PostgresDatabases, broker: TansuBroker, topic_prefix: str) -> None:
    # After a session timeout two members can hold the same partition for a moment: the other one commits
    # the same event while this batch runs, and this batch's insert into processed_events breaks the key.
    url = postgres.create()
    run_migrations(url, EVALUATOR_MIGRATIONS)
    s = settings(url, broker.bootstrap, topic_prefix)
    other = make_engine(url)
    topic = f"{topic_prefix}.observations"
    ensure_topics(s, [topic, f"{topic}.dlq"])
    values = events(4)
    produce(s, topic, values)
    handled: list[str] = []

    def handler(conn: Connection, envelope: Envelope, data: EventData) -> None:
        if envelope.id == Envelope.model_validate_json(values[1]).id and envelope.id not in handled:
            with other.begin() as theirs:  # the overlapping owner finishes first
                theirs.execute(inbox.insert(), {"event_id": envelope.id, "event_type": envelope.type,
                                                "processed_at": NOW})
        handled.append(envelope.id)

    with consuming(s, topic, handler, group=f"{topic_prefix}-g") as run:
        wait_for(lambda: run.messages(topic, "processed") + run.messages(topic, "duplicate") >= 4,
                 what="every event processed or found processed")
        assert run.loop.crashed is None
        assert run.messages(topic, "duplicate") == 1 and run.messages(topic, "processed") == 3
        assert run.messages(topic, "invalid") == 0
    assert _processed(other) == 4
    other.dispose()
