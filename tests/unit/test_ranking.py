"""Districts ranked on one indicator: ties share a rank (1, 2, 2, 4), districts without a figure come last as 未报送,
lower-is-better targets rank the lowest first, amounts go by 完成率 against 序时进度, and 双达标 needs both the
district's plan and the city average."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.evaluator.domain.model import Reading
from services.evaluator.domain.ranking import RankedRow, Ranking, gap_zh, growth_target, growth_zh, rank_regions
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
        [("jiangyin", 1), ("yixing", 2), ("liangxi", 2), ("xinwu", 4)], id="a tie shares a rank (1, 2, 2, 4)",
    ),
    pytest.param(
        {"binhu": 5.0, "huishan": 5.3}, 5.2,
        [("huishan", 1), ("binhu", 2)], id="only two districts reported: the rest last, unranked",
    ),
    pytest.param(
        {"xishan": 5.55, "jingkai": 5.549}, 5.0,
        [("xishan", 1), ("jingkai", 1)], id="equal as published (two decimals) is a tie",
    ),
    pytest.param({}, 5.2, [], id="no district figure: all 未报送"),
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
    assert all(r.rank is None and r.figure is None and r.rank_zh == "未报送" for r in missing)
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
    assert ranking.city_figure_zh == "未报送"


@pytest.mark.parametrize(("value", "text"), [(5.1, "同比增长5.1%"), (-1.25, "同比下降1.25%"), (0.0, "与上年持平"),
                                             (None, "未报送")])
def test_growth_wording(value: float | None, text: str) -> None:
    assert growth_zh(value) == text


@pytest.mark.parametrize(("gap", "text"), [(0.3, "高于全市0.3个百分点"), (-0.45, "低于全市0.45个百分点"),
                                           (0.0, "与全市持平"), (None, "—")])
def test_gap_wording(gap: float | None, text: str) -> None:
    assert gap_zh(gap) == text


# The table of cases: made-up targets (built here, not loaded), so each case states the rule it checks.
def _target(kind: str, indicator: str, measure: str, comparator: str, value: float | None, unit: str,
            **extra: object) -> Target:
    fields: dict[str, object] = {
        "id": f"{indicator}_t", "section": "headline", "name_zh": "测试目标", "name_en": "Test target",
        "phrase": f"测试{indicator}{value}{unit}", "kind": kind, "indicator": indicator, "measure": measure,
        "comparator": comparator, "value": value, "unit": unit, "frequency": "M", "lead_department": "fgw",
        "strength": "expected",
    }
    if kind in ("cumulative_total", "count"):
        fields.update(accrual="new_this_year", schedule="linear")
    fields.update(extra)
    return Target.model_validate(fields)


GDP_ABOUT = _target("growth_rate", "gdp", "cumulative_yoy_pct", "about", 5.5, "%")
GDP_OWN = _target("growth_rate", "gdp", "cumulative_yoy_pct", "about", 6.0, "%")
CPI_CAP = _target("cap", "cpi", "cumulative_yoy_pct", "at_most", None, "%",
                  params={"value_from": "province", "province_limit": 3.0, "band_pp": 0.5})
# 单位地区生产总值能耗下降3%以上: a growth of at most -3% (a decline of at least 3%).
ENERGY = _target("growth_rate", "energy_intensity", "cumulative_yoy_pct", "at_most", -3.0, "%")
FAI_CITY = _target("cumulative_total", "fixed_asset_investment", "cumulative_level", "at_least", 4550.0, "亿元")
FAI_JIANGYIN = _target("cumulative_total", "fixed_asset_investment", "cumulative_level", "at_least", 600.0, "亿元")
FAI_YIXING = _target("cumulative_total", "fixed_asset_investment", "cumulative_level", "at_least", 500.0, "亿元")
FAI_BINHU = _target("cumulative_total", "fixed_asset_investment", "cumulative_level", "at_least", 400.0, "亿元")
JOBS_CITY = _target("count", "urban_new_jobs", "cumulative_level", "at_least", 13.0, "万人")
JOBS_JIANGYIN = _target("count", "urban_new_jobs", "cumulative_level", "at_least", 2.0, "万人")

# Each expected row: region, rank words, figure words, 完成率 words, gap words, needed words, light.
TABLE = [
    pytest.param(
        "2024-Q2", GDP_ABOUT, {}, {"jiangyin": 6.2, "yixing": 5.8, "liangxi": 5.8, "xinwu": 4.1}, 5.6, {}, [
            ("jiangyin", "排名第1", "同比增长6.2%", "—", "高于全市0.6个百分点", "—", "ok"),
            ("yixing", "排名第2", "同比增长5.8%", "—", "高于全市0.2个百分点", "—", "ok"),
            ("liangxi", "排名第2", "同比增长5.8%", "—", "高于全市0.2个百分点", "—", "ok"),
            ("xinwu", "排名第4", "同比增长4.1%", "—", "低于全市1.5个百分点", "余下各期需增长5.9%", "critical"),
        ], id="ties share a rank and the next skips: 1, 2, 2, 4"),
    pytest.param(
        "2024-Q2", GDP_ABOUT, {}, {"huishan": 5.3}, None, {}, [
            ("huishan", "排名第1", "同比增长5.3%", "—", "—", "—", "ok"),
            ("jiangyin", "未报送", "未报送", "—", "—", "—", "none"),
        ], id="no figure: 未报送, last, unranked, in the listed order"),
    pytest.param(
        "2024-M06", CPI_CAP, {}, {"jiangyin": 2.1, "yixing": 3.2, "liangxi": 2.1, "xishan": 1.8}, 2.5, {}, [
            ("xishan", "排名第1", "同比上涨1.8%", "—", "低于全市0.7个百分点", "—", "ok"),
            ("jiangyin", "排名第2", "同比上涨2.1%", "—", "低于全市0.4个百分点", "—", "ok"),
            ("liangxi", "排名第2", "同比上涨2.1%", "—", "低于全市0.4个百分点", "—", "ok"),
            ("yixing", "排名第4", "同比上涨3.2%", "—", "高于全市0.7个百分点", "—", "critical"),
        ], id="a cap (控制在3%左右): the lowest ranks first, over the limit is not on plan"),
    pytest.param(
        "2024-M06", ENERGY, {}, {"jiangyin": -3.5, "yixing": -2.0, "binhu": -4.1}, -3.2, {}, [
            ("binhu", "排名第1", "同比下降4.1%", "—", "低于全市0.9个百分点", "—", "ok"),
            ("jiangyin", "排名第2", "同比下降3.5%", "—", "低于全市0.3个百分点", "—", "ok"),
            ("yixing", "排名第3", "同比下降2%", "—", "高于全市1.2个百分点", "余下各期需下降4%", "critical"),
        ], id="a decline (能耗下降3%以上, at_most): direction from the comparator, the decline still needed"),
    pytest.param(
        "2024-M06", FAI_CITY, {"jiangyin": FAI_JIANGYIN, "yixing": FAI_YIXING, "binhu": FAI_BINHU},
        {"jiangyin": 330.0, "yixing": 240.0, "binhu": 176.0, "xinwu": 100.0}, 2300.0, {}, [
            ("jiangyin", "排名第1", "累计完成330亿元", "完成全年目标的55%，快于序时进度5个百分点",
             "高于全市完成率4.5个百分点", "余下每月需完成45亿元", "ok"),
            ("yixing", "排名第2", "累计完成240亿元", "完成全年目标的48%，慢于序时进度2个百分点",
             "低于全市完成率2.5个百分点", "余下每月需完成43.33亿元", "ok"),
            ("binhu", "排名第3", "累计完成176亿元", "完成全年目标的44%，慢于序时进度6个百分点",
             "低于全市完成率6.5个百分点", "余下每月需完成37.33亿元", "critical"),
            ("xinwu", "无本板块目标，不排名", "累计完成100亿元", "—", "—", "—", "none"),
        ], id="amounts: 完成率 against 序时进度 (3 pp tolerance), a district without its own target unranked"),
    pytest.param(
        "2024-M09", JOBS_CITY, {"jiangyin": JOBS_JIANGYIN}, {"jiangyin": 1.5}, 9.75, {}, [
            ("jiangyin", "排名第1", "累计完成1.5万人", "完成全年目标的75%，与序时进度持平",
             "与全市完成率持平", "余下每月需完成0.17万人", "ok"),
        ], id="a count in 万人: equal to 序时进度 and to the city's 完成率"),
    pytest.param(
        "2024-Q2", GDP_ABOUT, {"jiangyin": GDP_OWN}, {"jiangyin": 5.4, "yixing": 5.6, "liangxi": 6.3}, 6.0, {}, [
            ("liangxi", "排名第1", "同比增长6.3%", "—", "高于全市0.3个百分点", "—", "ok"),
            ("yixing", "排名第2", "同比增长5.6%", "—", "低于全市0.4个百分点", "—", "ok"),
            ("jiangyin", "排名第3", "同比增长5.4%", "—", "低于全市0.6个百分点", "余下各期需增长5.6%", "critical"),
        ], id="needed: Jiangyin's own 6%左右 (from 5.5%) at 5.4% needs 5.6% in the second half"),
    pytest.param(
        "2024-Q2", GDP_ABOUT, {"jiangyin": GDP_OWN}, {"jiangyin": 5.4, "yixing": 5.6, "liangxi": 6.3}, 6.0,
        {"green_needs_city": True}, [
            ("liangxi", "排名第1", "同比增长6.3%", "—", "高于全市0.3个百分点", "—", "ok"),
            ("yixing", "排名第2", "同比增长5.6%", "—", "低于全市0.4个百分点", "—", "warning"),
            ("jiangyin", "排名第3", "同比增长5.4%", "—", "低于全市0.6个百分点", "余下各期需增长5.6%", "critical"),
        ], id="the both-rule: on plan but below the city average is not green"),
]


@pytest.mark.parametrize(("period", "city_t", "own", "figures", "city", "options", "expected"), TABLE)
def test_table(period: str, city_t: Target, own: dict[str, Target], figures: dict[str, float], city: float | None,
               options: dict[str, bool], expected: list[tuple[str, ...]]) -> None:
    measure = city_t.measure
    assert measure is not None
    ranking = rank_regions(city_t.indicator or "", period, DISTRICTS, {k: _r(v, period) for k, v in figures.items()},
                           _r(city, period) if city is not None else None, city_t, own, measure=measure,
                           unit=city_t.unit if measure == "cumulative_level" else None, **options)
    got = [(r.region, r.rank_zh, r.figure_zh, r.completion_zh, r.gap_zh, r.needed_zh, r.light) for r in ranking.rows]
    assert got[:len(expected)] == expected
    assert all(row[1] == "未报送" and row[6] == "none" for row in got[len(figures):])
    assert ranking.lower_is_better == (city_t.comparator == "at_most")
    assert ranking.basis == ("completion" if measure == "cumulative_level" else "rate")


def test_the_both_rule_is_off_by_default_and_named_on_the_ranking() -> None:
    figures = {"yixing": _r(5.6)}
    plain = rank_regions("gdp", "2024-Q2", DISTRICTS, figures, _r(6.0), GDP_ABOUT, {})
    strict = rank_regions("gdp", "2024-Q2", DISTRICTS, figures, _r(6.0), GDP_ABOUT, {}, green_needs_city=True)
    assert (plain.green_needs_city, plain.rows[0].green, plain.rows[0].at_or_above_both) == (False, True, False)
    assert (strict.green_needs_city, strict.rows[0].green, strict.rows[0].light) == (True, False, "warning")


def test_the_city_figure_is_judged_on_its_own_target_for_the_city_completion() -> None:
    ranking = rank_regions("fixed_asset_investment", "2024-M06", DISTRICTS, {}, _r(2300.0, "2024-M06"), FAI_CITY,
                           {}, measure="cumulative_level", unit="亿元")
    assert (ranking.city_completion_pct, ranking.city_figure_zh) == (50.5, "累计完成2300亿元")
    assert ranking.city_completion_zh == "完成全年目标的50.5%"


def test_needed_growth_is_weighted_by_last_years_levels_when_sent() -> None:
    # Last year's first half was 40% of its year: the second half weighs 60%, so less is needed than with halves.
    prev = [Reading(400.0, Period.parse("2023-Q2"), ObservationStatus.FINAL),
            Reading(1000.0, Period.parse("2023-Q4"), ObservationStatus.FINAL)]
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {"yixing": _r(4.4)}, None, GDP_ABOUT, {},
                           previous_year={"yixing": prev})
    assert ranking.rows[0].needed == 5.4  # (5.0 - 0.4 × 4.4) / 0.6; equal halves would give 5.6


# Every field of the ranking, worked by hand. Investment (4,550亿元 for the city, 600亿元 for Jiangyin) at June,
# linear schedule: 序时进度 is 50%, so Jiangyin's plan by now is 300亿元; 330/600 is 55% done, 5 points ahead; the
# city's 2,300/4,550 is 50.5% (one decimal), so Jiangyin is 4.5 points above it; the rest of the year needs
# (600 − 330) / 6 = 45亿元 a month. Xinwu has a figure but no target of its own: shown, not ranked.
def test_every_field_of_an_amount_ranking() -> None:
    ranking = rank_regions("fixed_asset_investment", "2024-M06", DISTRICTS,
                           {"jiangyin": _r(330.0, "2024-M06"), "xinwu": _r(100.0, "2024-M06")}, _r(2300.0, "2024-M06"),
                           FAI_CITY, {"jiangyin": FAI_JIANGYIN}, measure="cumulative_level", unit="亿元")
    assert ranking == Ranking(
        "fixed_asset_investment", "cumulative_level", "2024-M06", "completion", False, False, "亿元", 2300.0, 4550.0,
        "测试fixed_asset_investment4550.0亿元", "累计完成2300亿元", 50.5, "完成全年目标的50.5%", ranking.rows)
    assert ranking.rows[0] == RankedRow(
        "jiangyin", "江阴市", 330.0, 600.0, "测试fixed_asset_investment600.0亿元", 4550.0, 300.0, 55.0, 50.0, 5.0, 4.5,
        True, True, True, True, "ok", 45.0, 1, "累计完成330亿元", "完成全年目标的55%，快于序时进度5个百分点",
        "高于全市完成率4.5个百分点", "余下每月需完成45亿元", "排名第1")
    assert ranking.rows[1] == RankedRow(
        "xinwu", "新吴区", 100.0, None, None, 4550.0, None, None, None, None, None, None, None, None, None, "none",
        None, None, "累计完成100亿元", "—", "—", "—", "无本板块目标，不排名")
    assert ranking.rows[2] == RankedRow(
        "yixing", "宜兴市", None, None, None, 4550.0, None, None, None, None, None, None, None, None, None, "none",
        None, None, "未报送", "—", "—", "—", "未报送")
    assert [r.region for r in ranking.rows[2:]] == [r for r in DISTRICTS if r not in ("jiangyin", "xinwu")]


# No city target: the districts' own targets decide the reading. Energy intensity 下降3%以上 (at most −3%) is
# lower-is-better, so −3.5% ranks first; Yixing's −2% misses and needs −4% in the second half to average −3%.
def test_without_a_city_target_the_own_targets_decide_direction_and_plan() -> None:
    ranking = rank_regions("energy_intensity", "2024-M06", DISTRICTS,
                           {"jiangyin": _r(-3.5, "2024-M06"), "yixing": _r(-2.0, "2024-M06")}, None, None,
                           {"jiangyin": ENERGY, "yixing": ENERGY})
    assert ranking == Ranking("energy_intensity", "cumulative_yoy_pct", "2024-M06", "rate", True, False, None, None,
                              None, None, "未报送", None, "—", ranking.rows)
    phrase = "测试energy_intensity-3.0%"
    assert ranking.rows[:2] == (
        RankedRow("jiangyin", "江阴市", -3.5, -3.0, phrase, None, -3.0, None, None, None, None, True, None, None, True,
                  "ok", None, 1, "同比下降3.5%", "—", "—", "—", "排名第1"),
        RankedRow("yixing", "宜兴市", -2.0, -3.0, phrase, None, -3.0, None, None, None, None, False, None, None, False,
                  "critical", -4.0, 2, "同比下降2%", "—", "—", "余下各期需下降4%", "排名第2"))


# A rate ranked against the city: GDP 5.5%左右 (its band's lower edge, 5.0%, is the plan); the city's own figure is
# worded as a price for a cap (CPI 上涨), as a growth otherwise.
def test_every_field_of_a_rate_row_and_the_city_figure_words() -> None:
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {"yixing": _r(5.8)}, _r(5.6), GDP_ABOUT, {"yixing": GDP_OWN})
    assert ranking.rows[0] == RankedRow(
        "yixing", "宜兴市", 5.8, 6.0, GDP_OWN.phrase, 5.5, 5.5, None, None, None, 0.2, True, True, True, True, "ok",
        ranking.rows[0].needed, 1, "同比增长5.8%", "—", "高于全市0.2个百分点", ranking.rows[0].needed_zh, "排名第1")
    assert (ranking.city_figure, ranking.city_figure_zh, ranking.city_target_phrase) == (5.6, "同比增长5.6%",
                                                                                        GDP_ABOUT.phrase)
    cpi = rank_regions("cpi", "2024-M06", DISTRICTS, {}, _r(2.5, "2024-M06"), CPI_CAP, {})
    assert (cpi.city_figure_zh, cpi.city_target, cpi.lower_is_better) == ("同比上涨2.5%", 3.0, True)


# At the year's end the plan is the whole target and nothing is "needed per month" any more: Yixing's 520 of 500亿元
# is 104% done; Jiangyin's 580 of 600亿元 is 96.7%, short of the target (no 序时 tolerance once the year is over).
def test_at_year_end_the_plan_is_the_whole_target_and_nothing_is_needed_per_month() -> None:
    ranking = rank_regions("fixed_asset_investment", "2024-M12", DISTRICTS,
                           {"jiangyin": _r(580.0, "2024-M12"), "yixing": _r(520.0, "2024-M12")}, None, FAI_CITY,
                           {"jiangyin": FAI_JIANGYIN, "yixing": FAI_YIXING}, measure="cumulative_level", unit="亿元")
    got = [(r.region, r.plan, r.completion_pct, r.expected_pct, r.progress_gap_pp, r.meets_plan, r.needed, r.needed_zh,
            r.light, r.rank) for r in ranking.rows[:2]]
    assert got == [("yixing", 500.0, 104.0, 100.0, 4.0, True, None, "—", "ok", 1),
                   ("jiangyin", 600.0, 96.7, 100.0, -3.3, False, None, "—", "critical", 2)]


# No target at all (neither the city's nor a district's): ranked on the figure as published (two decimals), higher
# first, with no plan and no light.
def test_a_rate_without_any_target_is_ranked_on_its_figure_alone() -> None:
    ranking = rank_regions("gdp", "2024-Q2", DISTRICTS, {"jiangyin": _r(5.123), "yixing": _r(6.0)}, None, None, {})
    assert ranking.rows[:2] == (
        RankedRow("yixing", "宜兴市", 6.0, None, None, None, None, None, None, None, None, None, None, None, None,
                  "none", None, 1, "同比增长6%", "—", "—", "—", "排名第1"),
        RankedRow("jiangyin", "江阴市", 5.12, None, None, None, None, None, None, None, None, None, None, None, None,
                  "none", None, 2, "同比增长5.12%", "—", "—", "—", "排名第2"))


# A cap's plan is its limit itself (3%), not a band's lower edge.
def test_a_caps_plan_is_its_limit() -> None:
    row = rank_regions("cpi", "2024-M06", DISTRICTS, {"jiangyin": _r(3.4, "2024-M06")}, None, CPI_CAP, {}).rows[0]
    assert (row.plan, row.meets_plan, row.light, row.figure_zh) == (3.0, False, "critical", "同比上涨3.4%")
