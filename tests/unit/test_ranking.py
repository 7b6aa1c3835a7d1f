"""Districts ranked on one growth rate: ties share a rank, districts without a figure come last, and 双达标 needs
both the district's plan and the city average."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.evaluator.domain.model import Reading
from services.evaluator.domain.ranking import gap_zh, growth_target, growth_zh, rank_regions
from shared.catalogue import load_catalogues
from shared.catalogue.loader import DEFAULT_PATH
from shared.catalogue.model import Target
from shared.messages import ObservationStatus
from shared.periods import Period
from shared.regions import REGIONS

JIANGYIN = Path(__file__).parents[1] / "fixtures" / "catalogues" / "jiangyin_2024.toml"
DISTRICTS = {r: n for r, n in REGIONS.items() if r != "wuxi"}


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Target, Target]:
    d = tmp_path_factory.mktemp("catalogues")
    shutil.copy(DEFAULT_PATH, d / "catalogue_2024.toml")
    shutil.copy(JIANGYIN, d / "jiangyin_2024.toml")
    cats = load_catalogues(d)
    city, jiangyin = cats.get("wuxi", 2024), cats.get("jiangyin", 2024)
    assert city is not None and jiangyin is not None
    city_t = growth_target(list(city.targets.values()), "gdp")
    own_t = growth_target(list(jiangyin.targets.values()), "gdp")
    assert city_t is not None and own_t is not None
    assert (city_t.value, own_t.value) == (5.5, 6.0)  # 5.5%左右 and Jiangyin's made-up 6%左右
    return city_t, own_t


def _r(value: float, period: str = "2024-Q2") -> Reading:
    return Reading(value, Period.parse(period), ObservationStatus.PROVISIONAL)


CASES = [
    pytest.param(
        {"jiangyin": 6.2, "yixing": 5.8, "liangxi": 5.8, "xinwu": 4.1}, 5.6,
        [("jiangyin", 1), ("yixing", 2), ("liangxi", 2), ("xinwu", 4)], id="a tie shares a rank, the next skips",
    ),
    pytest.param(
        {"binhu": 5.0, "huishan": 5.3}, 5.2,
        [("huishan", 1), ("binhu", 2)], id="only two districts reported: the rest last, unranked",
    ),
    pytest.param(
        {"xishan": 5.55, "jingkai": 5.549}, 5.0,
        [("xishan", 1), ("jingkai", 1)], id="equal as published (two decimals) is a tie",
    ),
    pytest.param({}, 5.2, [], id="no district figure: all 暂无数据"),
]


@pytest.mark.parametrize(("figures", "city", "ranked"), CASES)
def test_ranks(figures: dict[str, float], city: float, ranked: list[tuple[str, int]],
               targets: tuple[Target, Target]) -> None:
    city_t, own_t = targets
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {k: _r(v) for k, v in figures.items()}, _r(city),
                           city_t, {"jiangyin": own_t})
    assert [(r.region, r.rank) for r in ranking.rows if r.rank is not None] == ranked
    missing = ranking.rows[len(ranked):]
    assert len(ranking.rows) == len(DISTRICTS) == 8
    assert all(r.rank is None and r.figure is None and r.rank_zh == "暂无数据" for r in missing)
    assert [r.region for r in missing] == [r for r in DISTRICTS if r not in figures]  # in the listed order
    assert ranking.city_figure == city and ranking.city_target == 5.5
    assert ranking.city_target_phrase is not None and "5.5%左右" in ranking.city_target_phrase


def test_above_its_plan_but_below_the_city_average_is_not_both(targets: tuple[Target, Target]) -> None:
    city_t, own_t = targets
    # City 6.0%. Yixing (no catalogue) 5.6% meets the city's 5.5%左右 (from 5.0%) but is below the city figure;
    # Jiangyin 6.3% is above both; Liangxi 4.8% below both; Xishan 6.0% level with the city and above plan.
    figures = {"jiangyin": 6.3, "yixing": 5.6, "liangxi": 4.8, "xishan": 6.0}
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {k: _r(v) for k, v in figures.items()}, _r(6.0),
                           city_t, {"jiangyin": own_t})
    rows = {r.region: r for r in ranking.rows}
    yixing = rows["yixing"]
    assert (yixing.meets_plan, yixing.at_or_above_city, yixing.at_or_above_both) == (True, False, False)
    assert (yixing.own_target, yixing.city_target, yixing.plan, yixing.gap_to_city_pp) == (None, 5.5, 5.0, -0.4)
    assert (yixing.figure_zh, yixing.gap_zh, yixing.rank_zh) == ("同比增长5.6%", "低于全市0.4个百分点", "排名第3")
    assert yixing.needed is None  # on plan: nothing still needed
    jiangyin = rows["jiangyin"]
    assert (jiangyin.own_target, jiangyin.plan, jiangyin.at_or_above_both) == (6.0, 5.5, True)
    assert jiangyin.own_target_phrase == "地区生产总值增长6%左右"
    assert (jiangyin.gap_zh, jiangyin.rank_zh) == ("高于全市0.3个百分点", "排名第1")
    xishan = rows["xishan"]
    assert (xishan.gap_to_city_pp, xishan.gap_zh, xishan.at_or_above_both) == (0.0, "与全市持平", True)
    liangxi = rows["liangxi"]
    assert (liangxi.meets_plan, liangxi.at_or_above_both) == (False, False)
    # Half the year gone at 4.8%: the second half needs 5.2% for the year to reach 5.0% (equal halves).
    assert liangxi.needed == 5.2
    assert rows["binhu"].at_or_above_both is None and rows["binhu"].gap_zh == "—"


def test_a_district_below_its_own_plan_though_above_the_city(targets: tuple[Target, Target]) -> None:
    city_t, own_t = targets
    # Jiangyin's own plan (6%左右, from 5.5%) is stricter than the city's: 5.4% beats the city's 5.2% but misses it.
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {"jiangyin": _r(5.4)}, _r(5.2), city_t, {"jiangyin": own_t})
    j = ranking.rows[0]
    assert (j.meets_plan, j.at_or_above_city, j.at_or_above_both, j.needed) == (False, True, False, 5.6)


def test_without_a_city_figure_there_is_no_gap(targets: tuple[Target, Target]) -> None:
    city_t, _ = targets
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {"yixing": _r(5.1)}, None, city_t, {})
    y = ranking.rows[0]
    assert (y.rank, y.gap_to_city_pp, y.at_or_above_both, y.meets_plan) == (1, None, None, True)
    assert ranking.city_figure_zh == "暂无数据"


@pytest.mark.parametrize(("value", "text"), [(5.1, "同比增长5.1%"), (-1.25, "同比下降1.25%"), (0.0, "与上年持平"),
                                             (None, "暂无数据")])
def test_growth_wording(value: float | None, text: str) -> None:
    assert growth_zh(value) == text


@pytest.mark.parametrize(("gap", "text"), [(0.3, "高于全市0.3个百分点"), (-0.45, "低于全市0.45个百分点"),
                                           (0.0, "与全市持平"), (None, "—")])
def test_gap_wording(gap: float | None, text: str) -> None:
    assert gap_zh(gap) == text
