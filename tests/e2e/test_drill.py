"""The fault drill in a short form: kills, a broker that loses everything, a receiver outage, (PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack.drill import run_drill
from devstack.stack import SERVICES

pytestmark = pytest.mark.e2e


def test_drill_loses_nothing_and_notifies_nothing_twice(tmp_path: Path, db_factory) -> None:
    urls = {name: db_factory() for name in SERVICES}
    on_postgres = urls["ingest"].startswith("postgresql")
    # Stopping the machine's PostgreSQL is only done where asked (CI), never under someone's feet.
    pg_restart = on_postgres and os.environ.get("DRILL_PG_RESTART") == "1"
    counts = run_drill(data_dir=tmp_path, database_urls=urls, duration_s=30, outage_s=8, rate=5, seed=7,
                       pg_restart=pg_restart)
    print(counts.line(), counts.faults)
    assert counts.accepted == counts.sent > 0
    assert counts.stored == counts.accepted
    assert counts.evaluated == counts.accepted
    assert counts.expected_notifications > 0 and counts.notified == counts.expected_notifications
    assert counts.lost == 0
    assert counts.duplicated == 0
    assert len(counts.faults) >= 5 + (1 if pg_restart else 0)
