"""shared/outbox.py against a real SQLite file, with a recording producer in Kafka's place: what an accepted
event's row holds, the order and the marks of publishing, a failed send marking nothing, and what the relay
prunes and reports."""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, create_engine, event, select

from shared.kafka import STRUCTURED_MODE_HEADERS
from shared.messages import ObservationRecorded, ObservationStatus, decode
from shared.metrics import CommonMetrics
from shared.outbox import Outbox, OutboxRelay, outbox_table, prune_sent
from shared.runtime import log_context

T0 = datetime(2024, 7, 15, 2, 0, tzinfo=UTC)


def _obs(n: int, indicator: str = "gdp") -> ObservationRecorded:
    return ObservationRecorded(
        observation_id=f"obs{n:04d}", indicator=indicator, region="wuxi", period="2024-Q2",
        measure="cumulative_yoy_pct", value=4.6 + n / 10, unit="%", status=ObservationStatus.PROVISIONAL,
        vintage=1, submitted_by="stats", recorded_at=T0)


class Sent:
    """A send's future as kafka-python's: ``get`` raises the send's error."""

    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class Producer:
    """Records what it is given; a send fails with ``fail`` when set (as a broker that timed out would)."""

    def __init__(self, fail: Exception | None = None, fail_close: bool = False) -> None:
        self.sent: list[tuple[str, bytes, bytes, Any]] = []
        self.fail = fail
        self.fail_close = fail_close
        self.closed = False

    def send(self, topic: str, key: bytes, value: bytes, headers: Any) -> Sent:
        if self.fail is None:
            self.sent.append((topic, key, value, headers))
        return Sent(self.fail)

    def flush(self, timeout: float) -> None:
        pass

    def close(self, timeout: float) -> None:
        self.closed = True
        if self.fail_close:  # a producer that lost its broker may fail to close too
            raise KafkaTimeoutError("close timed out")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    metadata = MetaData()
    table = outbox_table(metadata)
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def _relay(engine: Any, table: Any, producer: Producer, **kw: Any) -> tuple[OutboxRelay, CollectorRegistry]:
    registry = CollectorRegistry()
    relay = OutboxRelay(engine, table, lambda: producer, CommonMetrics(registry, "ingest"),  # type: ignore[arg-type,return-value]
                        clock=lambda: T0 + timedelta(minutes=1), **kw)
    return relay, registry


def _sent_at(engine: Any, table: Any) -> list[datetime | None]:
    with engine.connect() as conn:
        return list(conn.execute(select(table.c.sent_at).order_by(table.c.id)).scalars())


def test_an_event_is_written_with_its_topic_key_and_envelope_in_the_callers_transaction(db) -> None:
    engine, table = db
    outbox = Outbox(table, source="/wuxi-targets/ingest", topic_prefix="wx")
    with engine.begin() as conn:
        ids = outbox.add(conn, [_obs(1), _obs(2, "cpi")], now=T0)
        assert outbox.add(conn, []) == []
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    assert [r.event_id for r in rows] == ids and len(set(ids)) == 2
    assert [r.topic for r in rows] == ["wx.observations", "wx.observations"]
    assert [r.key for r in rows] == [_obs(1).key(), _obs(2, "cpi").key()] and rows[0].key != rows[1].key
    assert all(r.created_at == T0 and r.sent_at is None for r in rows)
    env = decode(bytes(rows[0].payload))
    assert (env.id, env.source, env.type, env.time) == (ids[0], "/wuxi-targets/ingest", _obs(1).event_type, T0)
    assert env.data["observation_id"] == "obs0001" and env.data["value"] == pytest.approx(4.7)


def test_each_written_event_is_logged_with_its_id_type_subject_and_the_event_that_caused_it(
        db, caplog: pytest.LogCaptureFixture) -> None:
    """The trail an operator follows from a figure to its deviation: one INFO line per event written, naming
    the event, what it is about and the event being handled when it was written (README *Logs*)."""
    engine, table = db
    caplog.set_level(logging.INFO, logger="shared.outbox")
    with engine.begin() as conn, log_context(event_id="cause-1"):
        ids = Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1), _obs(2, "cpi")], now=T0)
    lines = [r for r in caplog.records if r.name == "shared.outbox"]
    assert [r.getMessage() for r in lines] == [
        f"outbox: wrote event {ids[0]} ({_obs(1).event_type})", f"outbox: wrote event {ids[1]} ({_obs(1).event_type})"]
    assert all(r.levelno == logging.INFO for r in lines)
    fields = [{k: getattr(r, k, None) for k in ("event_id", "event_type", "indicator", "period", "observation_id",
                                                 "caused_by")} for r in lines]
    assert fields == [
        {"event_id": ids[0], "event_type": _obs(1).event_type, "indicator": "gdp", "period": "2024-Q2",
         "observation_id": "obs0001", "caused_by": "cause-1"},
        {"event_id": ids[1], "event_type": _obs(1).event_type, "indicator": "cpi", "period": "2024-Q2",
         "observation_id": "obs0002", "caused_by": "cause-1"}]
    caplog.clear()
    with engine.begin() as conn:  # outside a consumer's handling nothing caused it; nothing written, no line
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(3)], now=T0)
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [], now=T0)
    assert [getattr(r, "caused_by", "missing") for r in caplog.records if r.name == "shared.outbox"] == [None]


def test_a_rolled_back_transaction_leaves_no_event(db) -> None:
    engine, table = db
    with pytest.raises(RuntimeError), engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1)], now=T0)
        raise RuntimeError("the data write failed")
    assert _sent_at(engine, table) == []


def test_the_relay_publishes_unsent_rows_in_order_a_batch_at_a_time_and_marks_them_sent(db) -> None:
    engine, table = db
    outbox = Outbox(table, source="/s", topic_prefix="wx")
    with engine.begin() as conn:
        ids = outbox.add(conn, [_obs(n) for n in range(5)], now=T0)
    producer = Producer()
    ensured: list[list[str]] = []
    relay, registry = _relay(engine, table, producer, batch_size=3, ensure_topics=ensured.append)
    assert relay.publish_pending() == 3
    assert [decode(v).id for _, _, v, _ in producer.sent] == ids[:3]
    assert all(t == "wx.observations" and h == STRUCTURED_MODE_HEADERS and k == _obs(0).key().encode()
               for t, k, _, h in producer.sent)
    assert _sent_at(engine, table) == [T0 + timedelta(minutes=1)] * 3 + [None, None]
    assert relay.publish_pending() == 2 and relay.publish_pending() == 0
    assert [decode(v).id for _, _, v, _ in producer.sent] == ids  # each once, in id order
    assert ensured == [["wx.observations"]]  # before the first producer, not again while it lives
    assert registry.get_sample_value("outbox_published_total", {"topic": "wx.observations"}) == 5.0


def test_a_failed_send_marks_nothing_sent_so_the_round_is_retried(db) -> None:
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1), _obs(2)], now=T0)
    relay, _ = _relay(engine, table, Producer(fail=KafkaTimeoutError("no broker")))
    with pytest.raises(KafkaTimeoutError):
        relay.publish_pending()
    assert _sent_at(engine, table) == [None, None]
    good = Producer()
    relay.producer_factory = lambda: good  # type: ignore[assignment,return-value]
    relay._reset_producer()
    assert relay.publish_pending() == 2 and len(good.sent) == 2


def test_sent_rows_are_pruned_oldest_first_strictly_before_the_cut_and_unsent_ones_never(db) -> None:
    engine, table = db
    outbox = Outbox(table, source="/s", topic_prefix="wx")
    with engine.begin() as conn:
        outbox.add(conn, [_obs(n) for n in range(5)], now=T0)
        conn.execute(table.update().where(table.c.id <= 3).values(sent_at=T0 - timedelta(hours=1)))
        conn.execute(table.update().where(table.c.id == 4).values(sent_at=T0))  # exactly at the cut: kept
    with engine.begin() as conn:
        assert prune_sent(conn, table, T0, limit=2) == 2
    with engine.connect() as conn:
        assert list(conn.execute(select(table.c.id).order_by(table.c.id)).scalars()) == [3, 4, 5]
    with engine.begin() as conn:
        assert prune_sent(conn, table, T0, limit=10) == 1  # row 3; row 4, sent exactly at the cut, stays
    with engine.begin() as conn:
        assert prune_sent(conn, table, T0 + timedelta(days=1), limit=10) == 1  # row 5 is unsent: kept
    assert _sent_at(engine, table) == [None]


def test_the_gauges_show_the_backlog_and_the_age_of_its_oldest_row(db) -> None:
    engine, table = db
    relay, registry = _relay(engine, table, Producer())
    relay._update_gauges()
    assert registry.get_sample_value("outbox_pending_events") == 0.0
    assert registry.get_sample_value("outbox_oldest_pending_age_seconds") == 0.0
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1), _obs(2)], now=T0)
    relay._last_gauge_update = 0.0
    relay._update_gauges()
    assert registry.get_sample_value("outbox_pending_events") == 2.0
    assert registry.get_sample_value("outbox_oldest_pending_age_seconds") == 60.0
    with engine.begin() as conn:
        conn.execute(table.update().values(created_at=T0 + timedelta(minutes=1)))  # written just now
    relay._last_gauge_update = 0.0
    relay._update_gauges()
    assert registry.get_sample_value("outbox_oldest_pending_age_seconds") == 0.0


def _running(relay: OutboxRelay, until: Any, timeout_s: float = 10) -> BaseException | None:
    """Run the relay's loop in a thread until ``until()`` holds, then stop it; what the loop raised, if anything."""
    stop, raised = threading.Event(), []

    def loop() -> None:
        try:
            relay.run(stop)
        except BaseException as exc:  # handed to the test
            raised.append(exc)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    deadline = time.monotonic() + timeout_s
    try:
        while not until() and t.is_alive():
            assert time.monotonic() < deadline, "the relay did not get there"
            time.sleep(0.01)
    finally:
        stop.set()
        relay.wake()
        t.join(timeout_s)
    assert not t.is_alive()
    return raised[0] if raised else None


def test_the_loop_publishes_what_is_written_while_it_runs_and_lets_go_of_its_producer_when_stopped(db) -> None:
    engine, table = db
    producer = Producer()
    relay, _ = _relay(engine, table, producer, poll_interval_s=5)
    outbox = Outbox(table, source="/s", topic_prefix="wx")
    seen_healthy: list[bool] = []

    def written_and_sent() -> bool:
        if not seen_healthy:
            with engine.begin() as conn:
                outbox.add(conn, [_obs(1), _obs(2)], now=T0)
            relay.wake()  # the commit's nudge: no waiting for the 5 s poll
            seen_healthy.append(True)
        return len(producer.sent) == 2 and relay.healthy

    assert _running(relay, written_and_sent) is None
    assert _sent_at(engine, table) == [T0 + timedelta(minutes=1)] * 2
    assert relay.healthy is False and producer.closed  # stopped: unhealthy, its producer closed


def test_a_broker_away_is_counted_retried_with_a_new_producer_and_nothing_is_lost(db) -> None:
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1)], now=T0)
    broken, good = Producer(fail=KafkaTimeoutError("no broker"), fail_close=True), Producer()
    made: list[Producer] = []

    def factory() -> Producer:
        made.append(broken if not made else good)
        return made[-1]

    relay, registry = _relay(engine, table, broken)
    relay.producer_factory = factory  # type: ignore[assignment]
    assert _running(relay, lambda: len(good.sent) == 1) is None
    assert made == [broken, good] and broken.closed  # the failed producer was closed, a new one made
    assert registry.get_sample_value("outbox_publish_failures_total") == 1.0
    assert registry.get_sample_value("transient_failures_total",
                                     {"loop": "outbox-relay", "dependency": "broker"}) == 1.0
    assert _sent_at(engine, table) == [T0 + timedelta(minutes=1)]


def test_a_bug_ends_the_loop_instead_of_being_retried_for_ever(db) -> None:
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1)], now=T0)
    relay, registry = _relay(engine, table, Producer(fail=TypeError("a bug, not a broker")))
    raised = _running(relay, lambda: False)
    assert isinstance(raised, TypeError) and relay.healthy is False
    assert registry.get_sample_value("outbox_publish_failures_total") == 0.0
    assert _sent_at(engine, table) == [None]


def test_the_leading_relay_prunes_sent_rows_past_the_retention(db) -> None:
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(n) for n in range(3)], now=T0)
        conn.execute(table.update().where(table.c.id <= 2).values(sent_at=T0 - timedelta(days=8)))
    relay, _ = _relay(engine, table, Producer(), retention=timedelta(days=7))
    assert relay.pruner is not None
    relay.pruner.interval_s = 0  # due at once
    assert _running(relay, lambda: len(_sent_at(engine, table)) == 1) is None
    assert _sent_at(engine, table) == [T0 + timedelta(minutes=1)]  # the unsent one published, the two old gone


def test_a_relay_starts_unhealthy_and_publishes_nothing_while_another_replica_leads(db) -> None:
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1)], now=T0)
    producer = Producer()
    relay, _ = _relay(engine, table, producer)
    assert relay.healthy is False  # not until a round has succeeded
    # Another replica (another process: its own open file) holds the relay's lock on this database.
    with open(f"{engine.url.database}.relay-lock", "a+b") as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert relay.publish_pending() == 0 and producer.sent == []  # the leader keeps the order
        fcntl.flock(other.fileno(), fcntl.LOCK_UN)
    try:
        assert relay.publish_pending() == 1  # the lock is free: this one leads now
    finally:
        relay._release_leadership()


def test_a_full_batch_is_followed_at_once_and_a_quiet_outbox_is_polled(db) -> None:
    engine, table = db
    outbox = Outbox(table, source="/s", topic_prefix="wx")
    with engine.begin() as conn:
        outbox.add(conn, [_obs(n) for n in range(3)], now=T0)
    producer = Producer()
    # Batches of one and a 30 s poll: only going on at once after a full batch publishes all three in time.
    relay, _ = _relay(engine, table, producer, batch_size=1, poll_interval_s=30)
    assert _running(relay, lambda: len(producer.sent) == 3, timeout_s=5) is None
    polled = Producer()
    relay, _ = _relay(engine, table, polled, poll_interval_s=0.05)

    def written_unannounced() -> bool:  # written without a wake once the loop waits: found by the next poll
        if not relay.healthy:
            return False
        if not getattr(written_unannounced, "done", False):
            with engine.begin() as conn:
                outbox.add(conn, [_obs(9)], now=T0)
            written_unannounced.done = True  # type: ignore[attr-defined]
        return len(polled.sent) == 1

    assert _running(relay, written_unannounced, timeout_s=5) is None


def test_the_fault_point_sits_between_the_send_and_the_mark(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where tests/e2e/test_fault_points.py kills the relay: after the broker has the batch, before it is marked
    sent, so that a crash there re-sends it (and consumers drop it by event id) rather than losing it."""
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(1)], now=T0)
    passed: list[str] = []

    def crash(name: str) -> None:
        passed.append(name)
        raise SystemExit(f"killed at {name}")

    monkeypatch.setattr("shared.outbox.fault_point", crash)
    producer = Producer()
    relay, _ = _relay(engine, table, producer)
    with pytest.raises(SystemExit):
        relay.publish_pending()
    assert passed == ["outbox.after_send"] and len(producer.sent) == 1 and _sent_at(engine, table) == [None]


def test_the_relay_prunes_a_chunk_per_statement(db) -> None:
    engine, table = db
    with engine.begin() as conn:
        Outbox(table, source="/s", topic_prefix="wx").add(conn, [_obs(n) for n in range(7)], now=T0)
        conn.execute(table.update().values(sent_at=T0 - timedelta(days=8)))
    relay, registry = _relay(engine, table, Producer(), retention=timedelta(days=7))
    assert relay.pruner is not None and relay.pruner.table == "outbox"
    relay.pruner.chunk = 3
    deletes: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: deletes.append(sql) if sql.startswith("DELETE") else None)
    assert relay.pruner.run() == 7 and len(deletes) == 3 and _sent_at(engine, table) == []
    assert registry.get_sample_value("pruned_rows_total", {"table": "outbox"}) == 7.0
    assert _relay(engine, table, Producer())[0].pruner is None  # no retention: sent rows are kept
