"""Replicas of the evaluator judging one target moved by figures of different indicators (partitions) take turns:
a batch locks each such target before reading (services/evaluator/adapters/locks.py), so the second reads what the
first committed. Without it, benchmarks/release_morning.py with 4 replicas on PostgreSQL left 居民收入与经济增长同步
judged on a stale figure (a final standing unlike the 1-replica run's)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import create_engine, text

from services.evaluator.adapters.locks import NAMESPACE, lock_key, lock_targets
from services.evaluator.adapters.tables import outbox
from services.evaluator.handlers import ObservationHandler
from shared.catalogue import load_catalogue
from shared.db import normalise_url
from shared.messages import Measure, ObservationRecorded, ObservationStatus
from shared.outbox import Outbox

INCOME = "wuxi/2024/income_in_step_with_growth"


def _obs(indicator: str, period: str, region: str = "wuxi") -> ObservationRecorded:
    return ObservationRecorded(observation_id=f"{indicator}-{period}", indicator=indicator, region=region,
                               period=period, measure=Measure.CUMULATIVE_YOY_PCT, value=5.0, unit="%",
                               status=ObservationStatus.PROVISIONAL, vintage=1, submitted_by="stats",
                               recorded_at=datetime(2024, 7, 20, tzinfo=UTC))


def test_the_targets_a_batch_locks_are_those_read_from_other_indicators_series() -> None:
    handler = ObservationHandler(load_catalogue(), Outbox(outbox, source="/t", topic_prefix="wx"), lambda: None)  # type: ignore[arg-type,return-value]
    assert handler.shared_targets([_obs("gdp", "2024-S1")]) == {INCOME}  # GDP is the related series
    assert handler.shared_targets([_obs("disposable_income", "2024-Q2")]) == {INCOME}  # its own series
    assert handler.shared_targets([_obs("cpi", "2024-M06")]) == {INCOME}  # the deflator; the CPI cap reads CPI only
    assert handler.shared_targets([_obs("retail_sales", "2024-M06")]) == set()  # one series: no lock needed
    assert handler.shared_targets([_obs("gdp", "2024-S1", region="jiangyin")]) == set()  # no catalogue: nothing


def test_a_second_replica_waits_for_the_first_to_commit_on_postgresql_and_sqlite_needs_no_lock(database_url) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(normalise_url(database_url))
    try:
        if engine.dialect.name != "postgresql":
            with engine.begin() as conn:  # every SQLite transaction begins IMMEDIATE: serialised already
                assert lock_targets(conn, [INCOME]) == []
            return
        first, second = engine.connect(), engine.connect()
        first.begin()
        assert lock_targets(first, [INCOME, INCOME]) == [lock_key(INCOME)]
        got_it = threading.Event()

        def replica() -> None:
            second.begin()
            lock_targets(second, [INCOME])
            got_it.set()
            second.commit()

        t = threading.Thread(target=replica)
        t.start()
        with engine.connect() as watch:  # wait until the second is seen waiting for the lock (pg_locks)
            waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                           "AND classid = :ns AND objid = :k")
            k = lock_key(INCOME) & 0xFFFFFFFF  # objid is unsigned
            for _ in range(500):
                if watch.execute(waiting, {"ns": NAMESPACE, "k": k}).scalar():
                    break
                got_it.wait(0.01)
            assert watch.execute(waiting, {"ns": NAMESPACE, "k": k}).scalar() == 1
        assert not got_it.is_set()  # it is waiting, observed in pg_locks
        first.commit()  # the lock goes with the transaction
        assert got_it.wait(10)
        t.join(10)
        first.close()
        second.close()
    finally:
        engine.dispose()
