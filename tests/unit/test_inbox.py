"""shared/inbox.py against a real SQLite file: which event ids count as processed, what is recorded with them,
what a rolled-back batch leaves behind, and what pruning forgets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import MetaData, create_engine, event, select
from sqlalchemy.exc import IntegrityError

from shared.inbox import Inbox, already_processed, inbox_table, mark_processed, prune_processed
from shared.metrics import CommonMetrics

T0 = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    engine = create_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    metadata = MetaData()
    table = inbox_table(metadata)
    metadata.create_all(engine)
    yield Inbox(engine, table)
    engine.dispose()


def _rows(inbox: Inbox) -> list[tuple[str, str, datetime]]:
    with inbox.engine.connect() as conn:
        t = inbox.table
        return [tuple(r) for r in conn.execute(select(t.c.event_id, t.c.event_type, t.c.processed_at)
                                               .order_by(t.c.event_id))]  # type: ignore[misc]


def test_an_event_counts_as_processed_only_once_recorded_with_its_type_and_time(inbox: Inbox) -> None:
    with inbox.transaction() as conn:
        assert inbox.already_processed(conn, ["e1", "e2"]) == set()
        inbox.mark_processed(conn, [("e1", "ObservationRecorded"), ("e3", "TargetDeviation")], T0)
        assert inbox.already_processed(conn, ["e1", "e2", "e3", "e1"]) == {"e1", "e3"}  # in the same transaction
    assert _rows(inbox) == [("e1", "ObservationRecorded", T0), ("e3", "TargetDeviation", T0)]
    assert inbox.recorded("e1") and inbox.recorded("e3") and not inbox.recorded("e2")


def test_nothing_asked_or_recorded_is_no_query_and_no_row(inbox: Inbox) -> None:
    with inbox.transaction() as conn:
        assert already_processed(conn, inbox.table, []) == set()
        mark_processed(conn, inbox.table, [], T0)
    assert _rows(inbox) == []


def test_a_batch_that_fails_records_none_of_its_events(inbox: Inbox) -> None:
    """The ids are recorded in the handler's transaction: when it rolls back, the events are handled again."""
    with pytest.raises(RuntimeError), inbox.transaction() as conn:
        inbox.mark_processed(conn, [("e1", "ObservationRecorded")], T0)
        raise RuntimeError("the handler failed after marking")
    assert not inbox.recorded("e1") and _rows(inbox) == []


def test_the_same_event_recorded_twice_is_refused_by_the_table(inbox: Inbox) -> None:
    """The primary key is the last line of defence: a repeat slipping past the lookup cannot commit twice."""
    with inbox.transaction() as conn:
        inbox.mark_processed(conn, [("e1", "ObservationRecorded")], T0)
    with pytest.raises(IntegrityError), inbox.transaction() as conn:
        inbox.mark_processed(conn, [("e1", "ObservationRecorded")], T0)
    assert len(_rows(inbox)) == 1


def test_more_ids_than_one_query_may_bind_are_looked_up_in_chunks(inbox: Inbox) -> None:
    ids = [f"e{i:05d}" for i in range(1234)]
    recorded = set(ids[::3])  # in every chunk, and across the chunk boundaries at 500 and 1000
    with inbox.transaction() as conn:
        inbox.mark_processed(conn, [(i, "T") for i in sorted(recorded)], T0)
    with inbox.transaction() as conn:
        assert inbox.already_processed(conn, ids) == recorded
        assert inbox.already_processed(conn, ids[499:502]) == recorded & set(ids[499:502])


def test_pruning_forgets_only_what_is_older_than_the_cut_and_at_most_the_limit(inbox: Inbox) -> None:
    with inbox.transaction() as conn:
        inbox.mark_processed(conn, [(f"old{i}", "T") for i in range(5)], T0 - timedelta(hours=2))
        inbox.mark_processed(conn, [("edge", "T")], T0)  # exactly at the cut: kept
        inbox.mark_processed(conn, [("new", "T")], T0 + timedelta(seconds=1))
    with inbox.transaction() as conn:
        assert prune_processed(conn, inbox.table, T0, limit=3) == 3
    with inbox.transaction() as conn:
        assert prune_processed(conn, inbox.table, T0, limit=3) == 2
        assert prune_processed(conn, inbox.table, T0, limit=3) == 0
    assert [r[0] for r in _rows(inbox)] == ["edge", "new"]


def test_the_pruner_forgets_past_the_retention_in_chunks_and_counts_them(inbox: Inbox) -> None:
    with inbox.transaction() as conn:
        inbox.mark_processed(conn, [(f"old{i}", "T") for i in range(7)], T0 - timedelta(days=8))
        inbox.mark_processed(conn, [("recent", "T")], T0 - timedelta(days=6))
    registry = CollectorRegistry()
    pruner = inbox.pruner(timedelta(days=7), CommonMetrics(registry, "evaluator"), clock=lambda: T0)
    pruner.chunk = 3  # three transactions: 3, 3, then 1 (fewer than a chunk: done)
    deletes: list[str] = []
    event.listen(inbox.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: deletes.append(sql) if sql.startswith("DELETE") else None)
    assert pruner.run() == 7
    assert len(deletes) == 3  # a chunk per statement, never all at once (SQLite's write lock stays short)
    assert [r[0] for r in _rows(inbox)] == ["recent"]
    assert registry.get_sample_value("pruned_rows_total", {"table": "processed_events"}) == 7.0
