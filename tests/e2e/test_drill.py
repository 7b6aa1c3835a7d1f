"""The fault drill in a short form: kills, a broker that loses everything, a receiver outage, (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.drill import run_drill
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
    print(counts.line(), counts.faults)
    assert counts.accepted == counts.sent > 0
    assert counts.stored == counts.accepted
    assert counts.evaluated == counts.accepted
    assert counts.expected_notifications > 0 and counts.notified == counts.expected_notifications
    assert counts.lost == 0
    assert counts.duplicated == 0
    assert len(counts.faults) >= 5 + (1 if cluster else 0)
    if cluster is not None:
        assert any(f.startswith("PostgreSQL stopped") for f in counts.faults)
