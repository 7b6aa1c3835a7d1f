"""The fault drill in a short form: kills (the dispatcher's leader among two alerts replicas), a broker that
loses everything, a receiver outage (502s with a binary body, then refused), a rolling upgrade of the evaluator,
a held SQLite write lock or a PostgreSQL restart. Every fault must show it happened, not only the counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.drill import SQLITE_BUSY_TIMEOUT_S, run_drill
from devstack.pgcluster import PostgresCluster
from devstack.stack import SERVICES
from tests.conftest import POSTGRES_PROBLEM

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=[
    pytest.mark.postgres, pytest.mark.skipif(POSTGRES_PROBLEM is not None, reason=POSTGRES_PROBLEM or "")])])
def drill_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, str],
                                                                                      PostgresCluster | None]]:
    """The services' databases: SQLite files, or a PostgreSQL server of the test's own that it may restart."""
    if request.param == "sqlite":
        yield {name: f"sqlite:///{tmp_path / f'{name}.db'}" for name in SERVICES}, None
        return
    # Never the machine's PostgreSQL: stopping it would pull it from under everyone else using it.
    cluster = PostgresCluster().init()
    try:
        cluster.start()
        yield {name: cluster.create_database(f"drill_{name}") for name in SERVICES}, cluster
    finally:
        cluster.remove()


def test_drill_loses_nothing_and_notifies_nothing_twice(tmp_path: Path, drill_databases) -> None:
    urls, cluster = drill_databases
    counts = run_drill(data_dir=tmp_path, database_urls=urls, duration_s=30, outage_s=8, rate=5, seed=7,
                       pg_cluster=cluster)
    print(counts.line(), counts.faults, counts.evidence())
    assert counts.accepted == counts.sent > 0
    assert counts.stored == counts.accepted
    assert counts.evaluated == counts.accepted
    assert counts.expected_notifications > 0 and counts.notified == counts.expected_notifications
    assert counts.lost == 0
    assert counts.duplicated == 0
    assert counts.dead_lettered == 0 and counts.dead_lettered_events == 0 and counts.dead_notifications == 0
    assert counts.uncertain == 0
    assert counts.ok()
    # Every fault happened.
    assert len(counts.faults) == 7, counts.faults
    assert counts.leader_killed is not None and counts.leader_taken_over_by is not None
    assert counts.leader_killed != counts.leader_taken_over_by
    assert counts.bad_gateway_answers >= 1 and counts.refused_phase_s >= 1
    assert counts.bad_gateway_recorded >= 1  # the binary answers' outcomes were stored: no wedged writer
    assert counts.lone_queued_in_outage
    assert counts.lone_deliveries == 1
    assert counts.upgraded and counts.upgraded_events >= 1 and counts.upgrade_alert_deliveries >= 1
    if cluster is not None:
        assert any(f.startswith("PostgreSQL stopped") for f in counts.faults)
        assert counts.lock_held_s == 0 and counts.lock_database is None
    else:
        assert counts.lock_database == "alerts" and counts.lock_held_s >= 2 * SQLITE_BUSY_TIMEOUT_S
