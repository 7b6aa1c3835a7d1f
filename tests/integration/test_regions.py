"""Catalogues per region and year, end to end in-process: a Jiangyin figure goes through ingest, the broker, the
evaluator and alerts and is judged against Jiangyin's own (made-up) target and sent to Jiangyin's departments,
while the city's target is judged by the city's figure; a figure of a region with no catalogue is stored and judged
against nothing, and says so.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from services.alerts.config import DATA
from services.alerts.main import create_app as create_alerts
from services.evaluator.adapters.tables import evaluations, processed_events
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app
from shared.catalogue import load_catalogues
from shared.catalogue.loader import DEFAULT_PATH
from tests.integration import alerts_harness
from tests.integration.evaluator_support import published
from tests.integration.ingest_app import running_ingest

FIXTURE = Path(__file__).parents[1] / "fixtures" / "catalogues" / "jiangyin_2024.toml"
GDP = {"indicator": "gdp", "period": "2024-Q2", "measure": "cumulative_yoy_pct", "unit": "%",
       "status": "provisional"}


def _wait(condition, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_districts_figure_is_judged_against_its_own_catalogue(
    db_factory, broker: TansuBroker, topic_prefix: str, tmp_path: Path, receiver: Receiver
) -> None:
    catalogues = tmp_path / "catalogues"
    catalogues.mkdir()
    shutil.copy(DEFAULT_PATH, catalogues / "catalogue_2024.toml")
    shutil.copy(FIXTURE, catalogues / "jiangyin_2024.toml")
    settings = EvaluatorSettings(
        database_url=db_factory(), kafka_bootstrap_servers=broker.bootstrap, topic_prefix=topic_prefix,
        topic_partitions=1, kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500,
        consumer_group=f"evaluator-{topic_prefix}", outbox_poll_interval_s=0.1, catalogue_dir=catalogues,
    )
    registry = CollectorRegistry()
    app = create_app(settings, registry=registry)
    # Jiangyin's own 发改委 and 统计局 in the directory, beside the city's departments.
    directory = tmp_path / "directory.toml"
    entries = "".join(
        f'\n[[department]]\nid = "{d}"\n'
        f'channels = [{{ type = "webhook", address_env = "NOTIFY_{d.upper()}_WEBHOOK_URL", '
        f'secret_env = "NOTIFY_{d.upper()}_WEBHOOK_SECRET" }}]\n' for d in ("jiangyin_fgw", "jiangyin_stats"))
    directory.write_text((DATA / "directory.toml").read_text(encoding="utf-8") + entries, encoding="utf-8")
    alerts_settings = alerts_harness.settings(db_factory(), broker, topic_prefix, directory_path=directory,
                                              catalogue_dir=catalogues)
    env = alerts_harness.with_webhook_secrets({f"NOTIFY_{d.upper()}_WEBHOOK_URL": f"{receiver.url}/hook/{d}"
                                               for d in ("jiangyin_fgw", "jiangyin_stats", "fgw", "stats")})
    alerts = create_alerts(alerts_settings, catalogue=load_catalogues(catalogues), env=env)
    with (running_ingest(db_factory(), broker.bootstrap, topic_prefix) as ingest, TestClient(app) as evaluator,
          TestClient(alerts)):
        auth = ingest.key()
        # The city grows on its target (5.5% 左右); Jiangyin at 4% is well below its own 6% 左右.
        for region, value in (("wuxi", 5.5), ("jiangyin", 4.0), ("yixing", 7.0)):
            r = ingest.client.post("/v1/observations", json={**GDP, "region": region, "value": value}, headers=auth)
            assert r.status_code == 201, r.text
        # The city's 2023 figure has no 2023 catalogue, but it is last year's figure for the 2024 one.
        r = ingest.client.post("/v1/observations", json={**GDP, "region": "wuxi", "period": "2023-Q2", "value": 6.4,
                                                         "status": "final"}, headers=auth)
        assert r.status_code == 201, r.text
        engine = app.state.runtime.database.engine

        def processed() -> int:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(processed_events)).scalar_one())

        _wait(lambda: processed() == 4, 60, "the evaluator to handle the four figures")

        city = evaluator.get("/v1/targets/gdp_growth").json()
        assert (city["actual"], city["status"]) == (5.5, "on_track")
        board = {t["id"]: t for t in evaluator.get("/v1/targets", params={"region": "jiangyin"}).json()}
        assert set(board) == {t for t in board if t.startswith("jiangyin.2024.")} and len(board) == 7
        jiangyin = board["jiangyin.2024.gdp_growth"]
        assert jiangyin["actual"] == 4.0 and jiangyin["status"] in ("behind", "far_behind")
        assert jiangyin["lead_department"] == "jiangyin_fgw" and jiangyin["lead_department_zh"] == "江阴市发展改革委"
        assert evaluator.get("/v1/targets/jiangyin.2024.gdp_growth").json()["actual"] == 4.0
        # The default board is still the city's 2024 one.
        assert "jiangyin.2024.gdp_growth" not in {t["id"] for t in evaluator.get("/v1/targets").json()}
        page = evaluator.get("/board", params={"region": "jiangyin", "year": 2024}).text
        assert "江阴市2024年政府工作报告目标进展看板" in page and "江阴市发展改革委" in page
        assert "无锡市2024年" in evaluator.get("/board").text
        r = evaluator.get("/v1/targets", params={"region": "yixing"})
        assert r.status_code == 422 and "yixing" in r.text

        # Yixing has no catalogue: its figure is held, judged against nothing, and counted.
        assert evaluator.get("/v1/observations/without-catalogue").json() == [
            {"region": "yixing", "region_zh": "宜兴市", "year": 2024, "observations": 1}]
        evaluator.get("/metrics")  # the business collector reads the database at scrape time
        assert registry.get_sample_value("evaluator_observations_without_catalogue_total",
                                         {"region": "yixing", "year": "2024"}) == 1.0
        assert registry.get_sample_value("evaluator_observations_without_catalogue_total",
                                         {"region": "jiangyin", "year": "2024"}) is None
        with engine.connect() as conn:
            judged = set(conn.execute(select(evaluations.c.target_id)).scalars())
        assert "jiangyin.2024.gdp_growth" in judged and "gdp_growth" in judged
        assert not any(t.startswith("yixing") for t in judged)

        # What goes to alerts carries the target's region and its own departments.
        events = {e.target_id: e for e in published(engine)}
        event = events["jiangyin.2024.gdp_growth"]
        assert (event.region, event.lead_department, event.actual) == ("jiangyin", "jiangyin_fgw", 4.0)
        assert event.co_departments == ("jiangyin_stats",)
        assert "gdp_growth" not in events  # the city is on track: a first OK evaluation is not news

        # Alerts route it by the target's own departments: Jiangyin's 发改委 leads, its 统计局 helps.
        got = receiver.wait_for(2)
        assert sorted(r.path for r in got) == ["/hook/jiangyin_fgw", "/hook/jiangyin_stats"]
        assert all("江阴市发展改革委" in json.dumps(r.json(), ensure_ascii=False) for r in got)
