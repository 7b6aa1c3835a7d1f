"""The 板块 view on a real database: figures of the districts and the city go through the evaluator's handler, and
/v1/rankings and /board/regions rank them against the districts' own plans (the made-up Jiangyin and Yixing
catalogues in tests/fixtures/catalogues), the city's target and the city-wide figure: growth rates, 完成率 against
序时进度 for amounts and counts, a cap ranked lowest first, and the both-rule as a setting."""

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

_ROW = re.compile(r'<tr class="(\w+)" data-region="(\w+)" data-rank="(\d*)">' + r"<td[^>]*>(.*?)</td>" * 9 + "</tr>")


def _cells(html: str) -> list[tuple[str, ...]]:
    """Each district row of the page: light, region, rank, then the nine cells' text (badge unwrapped)."""
    return [tuple(re.sub(r"<[^>]+>", "", c) for c in row) for row in _ROW.findall(html)]

MIGRATIONS = Path("services/evaluator/migrations")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "catalogues"  # both made up: Jiangyin's and Yixing's


def _client(database_url: str, tmp_path: Path, *, green_needs_city: bool = False):
    run_migrations(database_url, MIGRATIONS)
    shutil.copy(DEFAULT_PATH, tmp_path / "catalogue_2024.toml")
    for name in ("jiangyin_2024.toml", "yixing_2024.toml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    catalogues = load_catalogues(tmp_path)
    settings = EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1",
                                 ranking_green_needs_city=green_needs_city)
    app = create_app(settings, catalogues=catalogues, clock=FrozenClock(datetime(2024, 10, 25, 2, 0, tzinfo=UTC)))
    # No lifespan: the handler is called directly, as the consumer loop would.
    c = TestClient(app)
    handler = ObservationHandler(catalogues, app.state.runtime.database.outbox, app.state.runtime.clock)

    def post(region: str, period: str, value: float, indicator: str = "gdp", measure: str = "cumulative_yoy_pct",
             unit: str = "%") -> None:
        data = observation(indicator, period, measure, value, unit=unit).model_copy(update={"region": region})
        with app.state.runtime.database.engine.begin() as conn:
            handler(conn, envelope(data), data)

    c.post_figure = post  # type: ignore[attr-defined]
    return c, app


@pytest.fixture
def client(database_url: str, tmp_path: Path):
    c, app = _client(database_url, tmp_path)
    yield c
    app.state.runtime.database.dispose()


@pytest.fixture
def strict_client(database_url: str, tmp_path: Path):
    c, app = _client(database_url, tmp_path, green_needs_city=True)
    yield c
    app.state.runtime.database.dispose()


def test_three_districts_ranked_against_their_plans_and_the_city(client) -> None:
    assert client.get("/v1/rankings", params={"indicator": "gdp"}).status_code == 404  # no district figure yet
    client.post_figure("jiangyin", "2024-Q1", 6.5)  # an earlier quarter: not the latest
    # City 5.6%; Jiangyin 5.9% (own plan 6%左右, met from 5.5%); Yixing 5.5% (its own 5.5%以上, met, but below
    # the city); Xinwu 4.6% (no catalogue: the city's 5.5%左右, met from 5.0%) below both.
    for region, value in (("wuxi", 5.6), ("jiangyin", 5.9), ("yixing", 5.5), ("xinwu", 4.6)):
        client.post_figure(region, "2024-Q2", value)

    r = client.get("/v1/rankings", params={"indicator": "gdp"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["period"], body["period_zh"], body["indicator_zh"]) == ("2024-Q2", "2024年上半年", "地区生产总值")
    assert (body["city_figure"], body["city_target"], body["city_figure_zh"]) == (5.6, 5.5, "同比增长5.6%")
    rows = [(x["region"], x["rank"], x["figure"], x["own_target"], x["gap_to_city_pp"], x["at_or_above_both"])
            for x in body["rows"]]
    assert rows[:3] == [("jiangyin", 1, 5.9, 6.0, 0.3, True), ("yixing", 2, 5.5, 5.5, -0.1, False),
                        ("xinwu", 3, 4.6, None, -1.0, False)]
    assert [x[1:3] for x in rows[3:]] == [(None, None)] * 5  # the other five districts: 未报送
    assert (body["measure"], body["basis"], body["lower_is_better"], body["green_needs_city"]) == (
        "cumulative_yoy_pct", "rate", False, False)
    jiangyin, yixing, xinwu = body["rows"][:3]
    assert (jiangyin["gap_zh"], jiangyin["rank_zh"]) == ("高于全市0.3个百分点", "排名第1")
    assert (yixing["meets_plan"], yixing["at_or_above_city"], yixing["gap_zh"]) == (True, False, "低于全市0.1个百分点")
    assert (xinwu["needed"], xinwu["figure_zh"], xinwu["needed_zh"]) == (5.4, "同比增长4.6%", "余下各期需增长5.4%")
    assert [x["light"] for x in body["rows"][:3]] == ["ok", "ok", "critical"]  # meeting its plan is enough
    assert body["rows"][3]["rank_zh"] == "未报送"
    # The same for a period asked for; the first quarter had Jiangyin alone and no city figure.
    q1 = client.get("/v1/rankings", params={"indicator": "gdp", "period": "2024-Q1"}).json()
    assert (q1["rows"][0]["region"], q1["rows"][0]["rank"], q1["city_figure"]) == ("jiangyin", 1, None)

    page = client.get("/board/regions", params={"indicator": "gdp", "period": "2024-Q2"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "2024年上半年各板块地区生产总值增速情况" in html and "全市地区生产总值同比增长5.6%" in html
    cells = _cells(html)
    assert cells[:3] == [
        ("ok", "jiangyin", "1", "排名第1", "江阴市", "同比增长5.9%", "—", "地区生产总值增长6%左右", "5.5%",
         "高于全市0.3个百分点", "—", "达到目标"),
        ("ok", "yixing", "2", "排名第2", "宜兴市", "同比增长5.5%", "—", "地区生产总值增长5.5%以上", "5.5%",
         "低于全市0.1个百分点", "—", "达到目标"),
        ("critical", "xinwu", "3", "排名第3", "新吴区", "同比增长4.6%", "—", "—", "5.5%", "低于全市1个百分点",
         "余下各期需增长5.4%", "未达目标"),
    ]
    assert len(cells) == 8 and all(c[3] == "未报送" and c[0] == "none" for c in cells[3:])
    assert "<style>" in html and ".badge" in html and "数值越高排名越前" in html
    assert client.get("/board/regions").text == client.get("/board/regions", params={"indicator": "gdp"}).text

    r = client.get("/v1/rankings", params={"indicator": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "indicator"]
    r = client.get("/v1/rankings", params={"indicator": "gdp", "period": "2024-13"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "period"]


def test_amounts_ranked_on_completion_against_the_time_schedule(client) -> None:
    # 1—9月 (75% of the year gone). Jiangyin's own 2万人 (made up): 1.56 → 78%; Yixing's own 1.6万人: 1.1 →
    # 68.75% (shown 68.8%), over 3 points behind 序时进度; Binhu has no catalogue: a figure, no 完成率, no rank;
    # the city's 13万人: 9.1 → 70%.
    for region, value in (("wuxi", 9.1), ("jiangyin", 1.56), ("yixing", 1.1), ("binhu", 0.8)):
        client.post_figure(region, "2024-M09", value, "urban_new_jobs", "cumulative_level", "万人")
    body = client.get("/v1/rankings", params={"indicator": "urban_new_jobs"}).json()  # the city's target: a count
    assert (body["measure"], body["basis"], body["unit"], body["period_zh"]) == (
        "cumulative_level", "completion", "万人", "2024年1—9月")
    assert (body["city_figure_zh"], body["city_completion_pct"]) == ("累计完成9.1万人", 70.0)
    got = [(x["region"], x["rank"], x["completion_pct"], x["expected_pct"], x["gap_to_city_pp"], x["light"],
            x["needed_zh"]) for x in body["rows"][:3]]
    assert got == [
        ("jiangyin", 1, 78.0, 75.0, 8.0, "ok", "余下每月需完成0.15万人"),
        ("yixing", 2, 68.8, 75.0, -1.2, "critical", "余下每月需完成0.17万人"),
        ("binhu", None, None, None, None, "none", "—"),
    ]
    assert body["rows"][2]["rank_zh"] == "无本板块目标，不排名" and body["rows"][3]["rank_zh"] == "未报送"
    html = client.get("/board/regions", params={"indicator": "urban_new_jobs", "period": "2024-M09"}).text
    assert "2024年1—9月各板块城镇新增就业人数完成情况" in html and "完成全年目标的70%" in html
    cells = _cells(html)
    assert cells[0][3:8] == ("排名第1", "江阴市", "累计完成1.56万人", "完成全年目标的78%，快于序时进度3个百分点",
                             "确保城镇新增就业2万人")
    assert cells[1][6:10] == ("完成全年目标的68.8%，慢于序时进度6.2个百分点", "城镇新增就业1.6万人", "13万人",
                              "低于全市完成率1.2个百分点")
    # The same indicator's growth is ranked when asked for, against no target (nobody sets one for it).
    client.post_figure("jiangyin", "2024-M09", 3.0, "urban_new_jobs")
    growth = client.get("/v1/rankings", params={"indicator": "urban_new_jobs", "measure": "cumulative_yoy_pct"})
    assert growth.json()["basis"] == "rate" and growth.json()["rows"][0]["light"] == "none"
    r = client.get("/v1/rankings", params={"indicator": "urban_new_jobs", "measure": "yoy_pct"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "measure"]
    assert "不能按" in r.json()["errors"][0]["msg_zh"] and r.json()["errors"][0]["type"] == "measure_not_ranked"


def test_a_cap_ranks_the_lowest_first(client) -> None:
    # CPI 控制在省定范围内 (3%左右): the city's cap judges every district (none has its own); Liangxi over 3% is
    # over the limit (接近上限), not on plan, and last.
    for region, value in (("wuxi", 2.4), ("jiangyin", 2.6), ("liangxi", 3.2), ("xishan", 1.9), ("huishan", 2.6)):
        client.post_figure(region, "2024-M09", value, "cpi")
    body = client.get("/v1/rankings", params={"indicator": "cpi"}).json()
    assert body["lower_is_better"] is True
    assert [(x["region"], x["rank"], x["figure_zh"], x["meets_plan"]) for x in body["rows"][:4]] == [
        ("xishan", 1, "同比上涨1.9%", True), ("jiangyin", 2, "同比上涨2.6%", True),
        ("huishan", 2, "同比上涨2.6%", True), ("liangxi", 4, "同比上涨3.2%", False)]
    assert [x["at_or_above_city"] for x in body["rows"][:4]] == [True, False, False, False]  # not worse: at or below
    assert "数值越低排名越前" in client.get("/board/regions", params={"indicator": "cpi"}).text


def test_the_both_rule_setting_turns_a_district_below_the_city_amber(strict_client) -> None:
    for region, value in (("wuxi", 5.6), ("jiangyin", 5.9), ("yixing", 5.5)):
        strict_client.post_figure(region, "2024-Q2", value)
    body = strict_client.get("/v1/rankings", params={"indicator": "gdp"}).json()
    assert body["green_needs_city"] is True
    assert [(x["region"], x["meets_plan"], x["green"], x["light"]) for x in body["rows"][:2]] == [
        ("jiangyin", True, True, "ok"), ("yixing", True, False, "warning")]
    cells = _cells(strict_client.get("/board/regions").text)
    assert (cells[0][-1], cells[1][-1]) == ("双达标", "未双达标（低于全市）")
