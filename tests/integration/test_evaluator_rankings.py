"""The 板块 view on a real database: figures of three districts and the city go through the evaluator's handler, and
/v1/rankings and /board/regions rank them against Jiangyin's own (made-up) plan, the city's target and figure."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.evaluator.config import EvaluatorSettings
from services.evaluator.handlers import ObservationHandler
from services.evaluator.main import create_app
from shared.catalogue import load_catalogues
from shared.catalogue.loader import DEFAULT_PATH
from shared.clock import FrozenClock
from shared.db import run_migrations
from tests.integration.evaluator_support import envelope, observation

MIGRATIONS = Path("services/evaluator/migrations")
FIXTURE = Path(__file__).parents[1] / "fixtures" / "catalogues" / "jiangyin_2024.toml"


@pytest.fixture
def client(database_url: str, tmp_path: Path):
    run_migrations(database_url, MIGRATIONS)
    shutil.copy(DEFAULT_PATH, tmp_path / "catalogue_2024.toml")
    shutil.copy(FIXTURE, tmp_path / "jiangyin_2024.toml")
    catalogues = load_catalogues(tmp_path)
    settings = EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1")
    app = create_app(settings, catalogues=catalogues, clock=FrozenClock(datetime(2024, 7, 20, 2, 0, tzinfo=UTC)))
    # No lifespan: the handler is called directly, as the consumer loop would.
    c = TestClient(app)
    handler = ObservationHandler(catalogues, app.state.runtime.database.outbox, app.state.runtime.clock)

    def post(region: str, period: str, value: float) -> None:
        data = observation("gdp", period, "cumulative_yoy_pct", value).model_copy(update={"region": region})
        with app.state.runtime.database.engine.begin() as conn:
            handler(conn, envelope(data), data)

    c.post_figure = post  # type: ignore[attr-defined]
    yield c
    app.state.runtime.database.dispose()


def test_three_districts_ranked_against_their_plans_and_the_city(client) -> None:
    assert client.get("/v1/rankings", params={"indicator": "gdp"}).status_code == 404  # no district figure yet
    client.post_figure("jiangyin", "2024-Q1", 6.5)  # an earlier quarter: not the latest
    # City 5.6%; Jiangyin 5.9% (own plan 6%左右, met from 5.5%); Yixing 5.5% (city plan 5.5%左右, met from 5.0%,
    # but below the city); Xinwu 4.6% below both.
    for region, value in (("wuxi", 5.6), ("jiangyin", 5.9), ("yixing", 5.5), ("xinwu", 4.6)):
        client.post_figure(region, "2024-Q2", value)

    r = client.get("/v1/rankings", params={"indicator": "gdp"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["period"], body["period_zh"], body["indicator_zh"]) == ("2024-Q2", "2024年上半年", "地区生产总值")
    assert (body["city_figure"], body["city_target"], body["city_figure_zh"]) == (5.6, 5.5, "同比增长5.6%")
    rows = [(x["region"], x["rank"], x["figure"], x["own_target"], x["gap_to_city_pp"], x["at_or_above_both"])
            for x in body["rows"]]
    assert rows[:3] == [("jiangyin", 1, 5.9, 6.0, 0.3, True), ("yixing", 2, 5.5, None, -0.1, False),
                        ("xinwu", 3, 4.6, None, -1.0, False)]
    assert [x[1:3] for x in rows[3:]] == [(None, None)] * 5  # the other five districts: 暂无数据
    jiangyin, yixing, xinwu = body["rows"][:3]
    assert (jiangyin["gap_zh"], jiangyin["rank_zh"]) == ("高于全市0.3个百分点", "排名第1")
    assert (yixing["meets_plan"], yixing["at_or_above_city"], yixing["gap_zh"]) == (True, False, "低于全市0.1个百分点")
    assert (xinwu["needed"], xinwu["figure_zh"]) == (5.4, "同比增长4.6%")
    assert body["rows"][3]["rank_zh"] == "暂无数据"
    # The same for a period asked for; the first quarter had Jiangyin alone and no city figure.
    q1 = client.get("/v1/rankings", params={"indicator": "gdp", "period": "2024-Q1"}).json()
    assert (q1["rows"][0]["region"], q1["rows"][0]["rank"], q1["city_figure"]) == ("jiangyin", 1, None)

    page = client.get("/board/regions", params={"indicator": "gdp", "period": "2024-Q2"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "2024年上半年各板块地区生产总值增速情况" in html and "全市地区生产总值同比增长5.6%" in html
    cells = re.findall(r'<tr class="(\w+)" data-region="(\w+)" data-rank="(\d*)"><td>(.*?)</td><td>(.*?)</td>'
                       r"<td>(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", html)
    assert cells[:3] == [
        ("ok", "jiangyin", "1", "排名第1", "江阴市", "同比增长5.9%", "地区生产总值增长6%左右", "5.5%",
         "高于全市0.3个百分点"),
        ("critical", "yixing", "2", "排名第2", "宜兴市", "同比增长5.5%", "—", "5.5%", "低于全市0.1个百分点"),
        ("critical", "xinwu", "3", "排名第3", "新吴区", "同比增长4.6%", "—", "5.5%", "低于全市1个百分点"),
    ]
    assert len(cells) == 8 and all(c[3] == "暂无数据" and c[0] == "none" for c in cells[3:])
    assert "余下各期需增长5.4%" in html and "<style>" in html and ".badge" in html  # the board's CSS
    assert client.get("/board/regions").text == client.get("/board/regions", params={"indicator": "gdp"}).text

    r = client.get("/v1/rankings", params={"indicator": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "indicator"]
    r = client.get("/v1/rankings", params={"indicator": "gdp", "period": "2024-13"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "period"]
