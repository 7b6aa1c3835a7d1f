"""The draft tool: recall and precision on the 2024 report, exact drafts of unseen paragraphs, each grammar case."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.catalogue.draft import DraftItem, ReportNotTextError, draft_text, read_report
from shared.catalogue.draft.__main__ import main
from shared.catalogue.draft.against import compare
from shared.catalogue.draft.emit import to_json, to_toml
from shared.catalogue.draft.items import DraftError
from shared.catalogue.draft.keywords import load_table
from shared.catalogue.draft.measure import measure
from shared.catalogue.draft.text import decode_report, normalise
from shared.catalogue.loader import REPORT_PATH, CatalogueError, load_catalogue, parse_catalogue
from shared.catalogue.model import ACCRUING_KINDS, Department, Indicator

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
REPORT = REPORT_PATH.read_text(encoding="utf-8")
CATALOGUE = load_catalogue()
# A paragraph of targets, for grammar cases: the tool reads only what follows 主要预期目标：.
INTRO = "二、2024年主要工作\n\n今年的主要预期目标："


def drafted(body: str) -> list[DraftItem]:
    return draft_text(INTRO + body + "\n").items


def numbers(body: str) -> list[tuple[str, float | None, str | None, str | None]]:
    return [(i.phrase, i.value, i.unit, i.comparator) for i in drafted(body) if i.value is not None]


def fixture(name: str) -> str:
    return read_report(FIXTURES / name)


def shape(item: DraftItem) -> tuple[object, ...]:
    return (item.phrase, item.value, item.unit, item.comparator, item.kind, item.section)


# --- the 2024 report against the hand-made catalogue ---------------------------------------------------


def test_recall_and_precision_on_the_2024_report() -> None:
    m, _ = measure(REPORT, CATALOGUE)
    # 83 targets with a value; the one miss is explained in the README (its 1.79 is not in part 二's text).
    assert m.numeric_targets == 83
    assert [target_id for target_id, _ in m.misses] == ["enterprise_rnd_to_revenue_up"]
    assert m.recall >= 82 / 83
    assert m.precision == 1.0, m.wrong_numeric
    assert m.kind_agrees == len(m.recalled)
    # The keyword table was seeded from this catalogue, so these are in-sample; they guard against regressions.
    assert m.indicator_agrees >= 80 and m.owner_agrees >= 80
    assert m.other_recalled >= 66 and m.right_other / m.drafted_other >= 0.95
    # The reading fields equal the catalogue's decisions wherever the tool makes them. The schedules that differ
    # are the catalogue's previous_year_path (a reviewer's choice, with last year's figures sent as data) and
    # the year_end of the two new (todo_) indicators, whose frequency A is flagged.
    assert m.strength_agrees == m.paired == 150
    assert m.accrual_agrees == m.accrual_targets == 75
    assert (m.schedule_agrees, m.schedule_targets) == (66, 77)
    assert {(c, d) for _, c, d in m.schedule_differs} == {("previous_year_path", "linear"), ("linear", "year_end")}


def test_nothing_from_the_review_of_last_year_is_drafted() -> None:
    start = REPORT.index("主要预期目标：")
    items = draft_text(REPORT).items
    assert items and min(i.start for i in items) > start
    assert not any(i.start >= REPORT.index("三、全面加强政府自身建设") for i in items)


@pytest.mark.parametrize("name", [None, *sorted(p.name for p in FIXTURES.glob("*.txt"))])
def test_every_phrase_is_verbatim_and_every_number_is_in_it(name: str | None) -> None:
    text = REPORT if name is None else fixture(name)
    for item in draft_text(text).items:
        assert text[item.start:item.end] == item.phrase
        if item.value is None:
            continue
        phrase = normalise(item.phrase).replace(",", "")
        written = {f"{item.value:g}", f"{item.value:.1f}", f"{item.value:.2f}"}
        round_numeral = {100.0: "百", 1000.0: "千"}.get(item.value)
        assert any(w in phrase for w in written) or (round_numeral and round_numeral in phrase), item.phrase


def test_the_2024_draft_loads_once_its_review_points_are_settled() -> None:
    draft_toml = to_toml(draft_text(REPORT), "report_2024.txt")
    with pytest.raises(CatalogueError, match="review"):
        parse_catalogue(draft_toml)  # an unreviewed draft never loads
    settled = re.sub(r"\nreview = \[\n(?:    .*\n)*\]", "", draft_toml)
    assert "review" not in re.sub(r"#.*", "", settled)
    # The two gaps the review names that a person must fill: the CPI cap's limit comes from the province, and
    # the income target's basis (income grows nominal, GDP real: the person decides to deflate by the CPI).
    province = 'kind = "cap"\nparams = { value_from = "province", province_limit = 3.0 }'
    settled = settled.replace('kind = "cap"', province)
    related = 'params = { related_indicator = "gdp", related_measure = "cumulative_yoy_pct" }'
    assert settled.count(related) == 1
    settled = settled.replace(related, 'basis = "real"\n' + related[:-2] + ', deflator = "cpi" }')
    catalogue = parse_catalogue(settled)
    assert catalogue.year == 2024 and len(catalogue.targets) >= 150
    # Every count, total and level says how it accrues, and the loader has checked each marker and schedule.
    assert all(t.accrual is not None for t in catalogue.targets.values() if t.kind in ACCRUING_KINDS)


def test_against_the_catalogue_it_was_drafted_from_finds_nothing_new() -> None:
    diff = compare(draft_text(REPORT), CATALOGUE)
    assert diff.new == []
    assert {t.id for t in diff.gone} == {"enterprise_rnd_to_revenue_up", "export_incentive_plan"}
    item = diff.pair_of("airport_cargo")
    assert item is not None and (item.value, item.unit) == (14.5, "万吨")


# --- paragraphs the tool has never seen (fixtures written for these tests) -------------------------------

NATIONAL = [
    ("国内生产总值增长5%左右", 5.0, "%", "about", "growth_rate", "headline"),
    ("城镇新增就业1200万人以上", 1200.0, "万人", "at_least", "count", "headline"),
    ("城镇调查失业率5.5%左右", 5.5, "%", "about", "level", "headline"),
    ("居民消费价格涨幅3%左右", 3.0, "%", "about", "cap", "headline"),
    ("居民收入增长和经济增长同步", None, "%", "in_step", "relational", "headline"),
    ("国际收支保持基本平衡", None, None, None, "qualitative", "headline"),
    ("粮食产量1.3万亿斤以上", 1.3, "万亿斤", "at_least", "level", "headline"),
    ("单位国内生产总值能耗降低2.5%左右", 2.5, "%", "about", "growth_rate", "headline"),
    ("生态环境质量持续改善", None, None, None, "qualitative", "headline"),
    ("今年赤字率拟按3%安排", 3.0, "%", "at_most", "level", "headline"),
    ("赤字规模4.06万亿元", 4.06, "万亿元", "at_least", "level", "headline"),
    ("拟安排地方政府专项债券3.9万亿元", 3.9, "万亿元", "at_least", "cumulative_total", "headline"),
]
CITY_A = [
    ("地区生产总值增长5.5%以上", 5.5, "%", "at_least", "growth_rate", "headline"),
    ("规上工业增加值增长7%左右", 7.0, "%", "about", "growth_rate", "headline"),
    ("一般公共预算收入增长3%", 3.0, "%", "at_least", "growth_rate", "headline"),
    ("固定资产投资增长5%—6%", 5.0, "%", "at_least", "growth_rate", "headline"),
    ("社会消费品零售总额增长6%左右", 6.0, "%", "about", "growth_rate", "headline"),
    ("城乡居民人均可支配收入分别增长5.5%左右和6%左右", 5.5, "%", "about", "growth_rate", "headline"),
    ("城乡居民人均可支配收入分别增长5.5%左右和6%左右", 6.0, "%", "about", "growth_rate", "headline"),
    ("城镇调查失业率控制在5%以内", 5.0, "%", "at_most", "level", "headline"),
    ("居民消费价格涨幅3%左右", 3.0, "%", "about", "cap", "headline"),
    ("全社会研发投入占地区生产总值比重达到3.3%", 3.3, "%", "at_least", "share", "headline"),
    ("完成省下达的节能减排目标任务", None, None, None, "qualitative", "headline"),
    ("力争规上工业总产值突破1.2万亿元", 1.2, "万亿元", "at_least", "cumulative_total", "1"),
    ("其中战略性新兴产业产值占比达到45%", 45.0, "%", "at_least", "share", "1"),
    ("新增专精特新“小巨人”企业30家以上", 30.0, "家", "at_least", "count", "1"),
    ("新增规上工业企业300家", 300.0, "家", "at_least", "count", "1"),
    ("实施500万元以上技改项目1000项", 1000.0, "项", "at_least", "count", "1"),
    ("年度计划投资超千亿元", 1000.0, "亿元", "at_least", "cumulative_total", "2"),
    ("其中产业项目投资不少于600亿元", 600.0, "亿元", "at_least", "cumulative_total", "2"),
    ("确保新增城镇就业9万人", 9.0, "万人", "at_least", "count", "3"),
    ("新建改造农村公路200公里", 200.0, "公里", "at_least", "cumulative_total", "3"),
    ("新增养老床位1500张", 1500.0, "张", "at_least", "count", "3"),
    ("新增学位2.3万个", 2.3, "万个", "at_least", "count", "3"),
    ("建成保障性租赁住房1.2万套", 1.2, "万套", "at_least", "count", "3"),
]
DISTRICT_B = [
    ("地区生产总值增长６％左右", 6.0, "%", "about", "growth_rate", "headline"),
    ("一般公共预算收入增长５％", 5.0, "%", "at_least", "growth_rate", "headline"),
    ("实际使用外资３．５亿美元", 3.5, "亿美元", "at_least", "cumulative_total", "headline"),
    ("外贸进出口总额稳定在1,200亿元左右", 1200.0, "亿元", "about", "cumulative_total", "headline"),
    ("城镇新增就业1.5万人", 1.5, "万人", "at_least", "count", "headline"),
    ("居民人均可支配收入增长与经济增长同步", None, "%", "in_step", "relational", "headline"),
    ("新增高新技术企业１２０家", 120.0, "家", "at_least", "count", "1"),
    # 入库 is redone every year: a count built up from zero (the keyword table's kind), not a stock at a date.
    ("科技型中小企业评价入库达２０００家以上", 2000.0, "家", "at_least", "count", "1"),
    ("培育数商１００多家", 100.0, "家", "at_least", "count", "1"),
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("national_2024_targets.txt", NATIONAL), ("city_a_2024.txt", CITY_A),
     ("district_b_2024_fullwidth.txt", DISTRICT_B)],
)
def test_unseen_paragraphs_are_drafted_exactly(name: str, expected: list[tuple[object, ...]]) -> None:
    assert [shape(i) for i in draft_text(fixture(name)).items] == expected


def test_unseen_paragraphs_guess_indicators_and_flag_what_a_person_decides() -> None:
    national = {i.phrase: i for i in draft_text(fixture("national_2024_targets.txt")).items}
    assert national["单位国内生产总值能耗降低2.5%左右"].indicator == "energy_intensity"
    assert any(r.startswith("decrease:") for r in national["单位国内生产总值能耗降低2.5%左右"].review)
    assert any(r.startswith("unit:") for r in national["粮食产量1.3万亿斤以上"].review)  # 万吨 in the table
    assert any(r.startswith("comparator:") for r in national["居民消费价格涨幅3%左右"].review)  # a cap with 左右
    assert national["居民收入增长和经济增长同步"].params["related_indicator"] == "gdp"
    assert any(r.startswith("section:") for r in national["今年赤字率拟按3%安排"].review)  # after the paragraph
    city = draft_text(fixture("city_a_2024.txt")).items
    urban, rural = (i for i in city if "分别" in i.phrase)
    assert (urban.indicator, rural.indicator) == ("urban_disposable_income", "rural_disposable_income")
    assert any(r.startswith("range:") for r in next(i for i in city if i.value_max == 6.0).review)
    assert not any(i.value == 6.2 or i.value == 620.0 for i in city)  # the review of 2023


def test_a_draft_with_nothing_to_review_parses_with_the_loader() -> None:
    draft = draft_text(fixture("clean_2025_targets.txt"))
    assert draft.year == 2025 and all(not i.review for i in draft.items) and not draft.indicator_review
    catalogue = parse_catalogue(to_toml(draft, "clean_2025_targets.txt"))
    # Every catalogue but the city's 2024 one keys its targets by region and year.
    assert all(t.id.startswith("wuxi.2025.") for t in catalogue.targets.values())
    assert {t.id.removeprefix("wuxi.2025."): (t.value, t.unit, t.comparator) for t in catalogue.targets.values()} == {
        "gdp_growth": (5.0, "%", "about"),
        "general_budget_revenue_growth": (3.0, "%", "about"),
        "fixed_asset_investment": (4700.0, "亿元", "at_least"),
        "surveyed_unemployment_rate": (5.0, "%", "at_most"),
    }
    # The new fields, decided from the words (左右, the paragraph's 预期目标) and the indicator's frequency.
    assert {t.id.removeprefix("wuxi.2025."): (t.strength, t.strength_marker, t.accrual, t.schedule)
            for t in catalogue.targets.values()} == {
        "gdp_growth": ("expected", "左右", None, None),
        "general_budget_revenue_growth": ("expected", "左右", None, None),
        "fixed_asset_investment": ("expected", "预期目标", "new_this_year", "linear"),
        "surveyed_unemployment_rate": ("expected", "预期目标", "stock", "linear"),
    }


def test_against_last_years_catalogue_shows_new_changed_and_gone() -> None:
    diff = compare(draft_text(fixture("clean_2025_targets.txt")), CATALOGUE)
    changed = {t.id: changes for t, _, changes in diff.changed}
    assert changed["gdp_growth"][0] == "value: 5.5 → 5.0"
    assert changed["fixed_asset_investment_total"][0] == "value: 4550.0 → 4700.0"
    assert [i.indicator for i in diff.new] == ["surveyed_unemployment_rate"]
    assert "retail_sales_growth" in {t.id for t in diff.gone}


# --- grammar cases ------------------------------------------------------------------------------------


def test_two_targets_in_one_phrase() -> None:
    assert numbers("城乡居民人均可支配收入分别增长5.5%左右和6%左右。") == [
        ("城乡居民人均可支配收入分别增长5.5%左右和6%左右", 5.5, "%", "about"),
        ("城乡居民人均可支配收入分别增长5.5%左右和6%左右", 6.0, "%", "about"),
    ]
    # 达 before the first of a list qualifies both; units tell the indicators apart.
    items = [i for i in drafted("客货运吞吐量分别达920万人次、14.5万吨。") if i.value is not None]
    assert [(i.value, i.unit, i.comparator, i.indicator) for i in items] == [
        (920.0, "万人次", "at_least", "airport_passengers"), (14.5, "万吨", "at_least", "airport_cargo")]
    # A qualifier before the first number of a list holds for the others too.
    items = drafted("新建项目能耗和碳排放增幅分别不超过2%、3%。")
    assert [(i.value, i.comparator, i.comparator_word) for i in items] == [
        (2.0, "at_most", "不超过"), (3.0, "at_most", "不超过")]
    # Each number gets the words beside it.
    items = drafted("实施30条背街小巷和25座桥下空间提升改造。")
    assert [i.indicator for i in items] == ["back_alleys_upgraded", "under_bridge_spaces_upgraded"]


def test_sub_targets_under_qizhong() -> None:
    items = drafted("市重大产业项目完成投资1450亿元、其中工业投资超1000亿元。新备案超10亿元项目80个以上，"
                    "其中超50亿元15个、超100亿元8个。")
    assert [(i.phrase, i.value) for i in items] == [
        ("市重大产业项目完成投资1450亿元", 1450.0), ("其中工业投资超1000亿元", 1000.0),
        ("新备案超10亿元项目80个以上", 80.0), ("其中超50亿元15个", 15.0), ("超100亿元8个", 8.0)]
    assert [i.parent for i in items] == [None, 0, None, 2, 2]
    assert items[1].indicator == "major_project_industrial_investment"
    assert items[3].lead_department == items[2].lead_department  # the owner of the whole


def test_a_stretch_target_keeps_the_indicator_and_an_aspiration_is_not_drafted() -> None:
    items = drafted("地区生产总值增长5.5%左右、力争6%，一般公共预算收入增长5%左右，力争实现更好结果。")
    assert [(i.phrase, i.value, i.kind, i.indicator, i.comparator, i.strength_word) for i in items] == [
        ("地区生产总值增长5.5%左右", 5.5, "growth_rate", "gdp", "about", "左右"),
        ("力争6%", 6.0, "growth_rate", "gdp", "at_least", "力争"),
        ("一般公共预算收入增长5%左右", 5.0, "growth_rate", "general_budget_revenue", "about", "左右"),
    ]
    assert items[1].id == "gdp_growth_stretch" and any(r.startswith("stretch:") for r in items[1].review)


@pytest.mark.parametrize("body", ["固定资产投资增长5%—6%。", "固定资产投资增长5-6%。", "固定资产投资增长5%至6%。",
                                  "固定资产投资增长５％～６％。"])
def test_ranges_keep_both_ends_and_take_the_lower_as_the_floor(body: str) -> None:
    (item,) = drafted(body)
    assert (item.value, item.value_max, item.unit, item.comparator) == (5.0, 6.0, "%", "at_least")
    assert any(r.startswith("range:") for r in item.review)


@pytest.mark.parametrize(
    ("body", "value", "unit"),
    [
        ("推动金融机构存贷款规模突破5万亿元。", 5.0, "万亿元"),
        ("粮食产量1.3万亿斤以上。", 1.3, "万亿斤"),
        ("实际使用外资38亿美元。", 38.0, "亿美元"),
        ("城镇新增就业1200万人以上。", 1200.0, "万人"),
        ("力争客运吞吐量达920万人次。", 920.0, "万人次"),
        ("力争年新增注册基金超千亿元。", 1000.0, "亿元"),
        ("实施年度投资超百亿元治太项目。", 100.0, "亿元"),
        ("新增停车泊位1万个以上。", 1.0, "万个"),
        ("新建改造农村公路1,200公里。", 1200.0, "公里"),
        ("常住人口城镇化率提高1个百分点。", 1.0, "个百分点"),
        ("科创载体160万平方米。", 160.0, "万平方米"),
    ],
)
def test_units_are_kept_as_written(body: str, value: float, unit: str) -> None:
    assert [(v, u) for _, v, u, _ in numbers(body)] == [(value, unit)]


@pytest.mark.parametrize(
    ("body", "comparator", "word"),
    [
        ("地区生产总值增长5.5%左右。", "about", "左右"),
        ("新增规上工业企业500家以上。", "at_least", "以上"),
        ("新增绿色制造标杆不少于35个。", "at_least", "不少于"),
        ("推动金融机构存贷款规模突破5万亿元。", "at_least", "突破"),
        ("新增市级以上企业研发机构超500家。", "at_least", "超"),
        ("来自企业的发明专利授权量占比达到75%。", "at_least", "达到"),
        ("居民消费价格涨幅控制在3%。", "at_most", "控制在"),
        ("城镇调查失业率5.5%以内。", "at_most", "以内"),
        ("单位能耗增幅不超过2%。", "at_most", "不超过"),
        ("固定资产投资4550亿元。", "at_least", ""),  # no qualifier: a floor, as the catalogue reads it
        ("城镇调查失业率5.5%。", "at_most", ""),  # no qualifier, but the table says a rate of unemployment caps
    ],
)
def test_comparators_and_the_word_that_decided(body: str, comparator: str, word: str) -> None:
    (item,) = drafted(body)
    assert (item.comparator, item.comparator_word) == (comparator, word)


@pytest.mark.parametrize(
    ("body", "strength", "word"),
    [
        ("确保粮食播种面积稳定在122万亩以上。", "binding", "确保"),
        ("节能减排等约束性指标完成省下达目标。", "binding", "完成省下达"),
        ("力争数字经济核心产业增加值占GDP比重达到12.2%左右。", "expected", "力争"),
        ("地区生产总值增长5.5%左右。", "expected", "左右"),
        ("固定资产投资4550亿元。", "expected", "主要预期目标"),  # the paragraph's own title
    ],
)
def test_strength_in_the_targets_paragraph(body: str, strength: str, word: str) -> None:
    (item,) = drafted(body)
    assert (item.strength, item.strength_word) == (strength, word)


def test_strength_in_the_sections_and_the_default() -> None:
    body = "（一）聚力发展。着力争取设立自贸试验区无锡片区。全力争创全国禁毒示范城市。新增规上工业企业500家以上。"
    items = draft_text(INTRO + "地区生产总值增长5%左右。\n\n" + body + "\n").items[1:]
    assert [(i.strength, i.strength_word, i.strength_marker) for i in items] == [
        ("expected", "争取", "争取"), ("expected", "争创", "争创"), ("expected", "", "")]
    # No word: written as the catalogue reads an unmarked commitment (预期性), and flagged for a person.
    assert [i for i, item in enumerate(items) if any(r.startswith("strength:") for r in item.review)] == [2]
    items = draft_text(INTRO + "地区生产总值增长5%左右。\n\n" + body + "\n", default_strength="binding").items
    assert (items[-1].strength, items[-1].strength_word) == ("binding", "--default-strength")
    assert not any(r.startswith("strength") for r in items[-1].review)


def test_targets_listed_one_per_line_after_a_bare_colon() -> None:
    text = ("二、2025年主要工作\n\n今年主要预期目标是：\n地区生产总值增长5%左右；\n城镇新增就业1.2万人\n"
            "居民消费价格涨幅控制在2%以内。\n\n实现上述目标，要做好以下工作。\n（一）发展。新增规上工业企业50家。\n")
    items = draft_text(text).items
    assert [(i.section, i.phrase, i.value) for i in items] == [
        ("headline", "地区生产总值增长5%左右", 5.0), ("headline", "城镇新增就业1.2万人", 1.2),
        ("headline", "居民消费价格涨幅控制在2%以内", 2.0), ("1", "新增规上工业企业50家", 50.0)]
    assert not any(r.startswith("section:") for i in items for r in i.review)


def test_a_tenth_section_is_flagged_for_a_section_the_catalogue_allows() -> None:
    sections = "".join(f"（{n}）聚力发展。新增规上工业企业{k}家。\n" for k, n in enumerate("一二三四五六七八九十", 1))
    draft = draft_text(INTRO + "地区生产总值增长5%左右。\n" + sections)
    assert [i.section for i in draft.items] == ["headline", *map(str, range(1, 11))]
    assert any(r.startswith("section:") for r in draft.items[-1].review)
    assert not any(r.startswith("section:") for r in draft.items[-2].review)
    assert draft.warnings and "1–9" in draft.warnings[0]


def test_full_width_digits_and_ascii_punctuation() -> None:
    text = ("二、2024年主要工作\n主要预期目标为:地区生产总值增长５．５％左右,新增规上工业企业５００家以上;"
            "实际使用外资38亿美元.\n")
    items = draft_text(text).items
    assert [(i.phrase, i.value, i.unit, i.comparator) for i in items] == [
        ("地区生产总值增长５．５％左右", 5.5, "%", "about"),
        ("新增规上工业企业５００家以上", 500.0, "家", "at_least"),
        ("实际使用外资38亿美元", 38.0, "亿美元", "at_least"),
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("推动“465”现代产业集群建设走深走实。", "quotes"),
        ("推动5G深度覆盖。", "code"),
        ("中信泰富特钢成为我市第3家灯塔工厂。", "ordinal"),
        ("落实促进民间投资12条措施。", "policy"),
        ("加快推进地铁4号线二期建设。", "no unit"),
        ("加快4所优质高中建设步伐。", "scope"),
        ("建成3公里汽车充电服务圈。", "service circle"),
        ("实现50亿元以下市值公司全覆盖。", "scope"),
        ("赤字规模比上年增加1800亿元。", "change on last year"),
        ("积极服务省“1+3”重点功能区建设。", "quotes"),
    ],
)
def test_labels_and_scope_are_not_drafted_but_listed(body: str, reason: str) -> None:
    draft = draft_text(INTRO + "\n\n（一）聚力发展。" + body + "\n")
    assert [i for i in draft.items if i.value is not None] == []
    assert draft.skipped and reason in draft.skipped[0][0].reason
    assert draft.skipped[0][1] in to_toml(draft, "x.txt")  # the reviewer sees what was left out, and where


# --- the file and the command -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"\x00\x01binary\x00", "控制字符"),
        ("主要预期目标：地区生产总值增长5%左右".encode("gb18030"), "UTF-8"),
        (b"%PDF-1.7\n...", "PDF"),
        (b"PK\x03\x04\x14\x00", "docx"),
        ("主要预期目标".encode("utf-16"), "UTF-16"),
        (b"just some English text\n", "汉字"),
    ],
)
def test_a_file_that_is_not_text_is_refused_naming_the_rule(data: bytes, rule: str) -> None:
    with pytest.raises(ReportNotTextError, match=rule) as exc:
        decode_report(data)
    assert re.search(r"[\u4e00-\u9fff]", str(exc.value)) and " / The report file" in str(exc.value)


def test_the_command_writes_toml_or_json_and_writes_nothing_for_bad_input(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    report = FIXTURES / "clean_2025_targets.txt"
    assert main([str(report), "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {"phrase", "value", "unit", "comparator", "kind", "section", "strength", "review"} <= set(items[0])
    assert items[0]["phrase"] in report.read_text(encoding="utf-8")
    out = tmp_path / "draft.toml"
    assert main([str(report), "-o", str(out)]) == 0
    assert tomllib.loads(out.read_text(encoding="utf-8"))["year"] == 2025
    bad = tmp_path / "report.txt"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert main([str(bad), "-o", str(tmp_path / "never.toml")]) == 2
    assert "UTF-16" in capsys.readouterr().err
    assert not (tmp_path / "never.toml").exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "draft.toml", "report.txt"]


def test_the_command_runs_as_a_module_and_prints_the_diff() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "shared.catalogue.draft", str(FIXTURES / "clean_2025_targets.txt"), "--against",
         str(ROOT / "shared" / "catalogue" / "catalogue_2024.toml")],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=True,
    )
    assert "changed  gdp_growth (draft gdp_growth): value: 5.5 → 5.0" in run.stdout
    assert re.search(r"^new      surveyed_unemployment_rate: level 5 % at_most", run.stdout, re.M)
    assert re.search(r"^\d+ same, 3 changed, 1 new, \d+ gone$", run.stdout, re.M)


def test_strength_accrual_and_schedule_are_keys_of_the_toml_and_the_json() -> None:
    draft = draft_text(fixture("clean_2025_targets.txt"))
    toml_text = re.sub(r"#.*", "", to_toml(draft, "x.txt"))
    entry = toml_text[toml_text.index('id = "fixed_asset_investment"\n', toml_text.index("[[target]]")):]
    entry = entry[:entry.index("[[target]]") if "[[target]]" in entry else None]
    for line in ('strength = "expected"', 'strength_marker = "预期目标"', 'accrual = "new_this_year"',
                 'schedule = "linear"'):
        assert line in entry
    doc = json.loads(to_json(draft))
    assert [(i["strength"], i["strength_marker"], i["accrual"], i["schedule"]) for i in doc] == [
        ("expected", "左右", None, None), ("expected", "左右", None, None),
        ("expected", "预期目标", "new_this_year", "linear"), ("expected", "预期目标", "stock", "linear")]


def test_the_keyword_table_copies_valid_catalogue_entries() -> None:
    table = load_table()
    for dep in table.departments.values():
        Department.model_validate(dep)
    for entry in table.indicators.values():
        Indicator.model_validate(entry.fields)
        assert entry.kind in (None, "growth_rate", "cumulative_total", "count", "share", "level", "cap")
        assert entry.bare in (None, "at_least", "at_most", "about")


# Pieces of target phrases, to be put together in any order: the draft never fails on them, keeps every
# phrase verbatim, and writes TOML and JSON that parse.
_PIECES = [
    "1", "5", ".", "0", "２", "．", ",", "200", "%", "％", "左右", "以上", "以内", "以下", "超", "达到",
    "控制在", "万", "亿", "元", "万亿", "斤", "个", "家", "、", "，", "；", "。", "：", "其中", "分别", "和",
    "增长", "降低", "“", "”", "（一）", "（十）", "\n", "力争", "确保", "占比", "建成", "出台", "全覆盖",
    "地区生产总值", "新增", "比上年增加", "加快", "—", "至", "个百分点", "PM", "第", "+", "多", "千", " ",
    "同步", "与", "稳中有升",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_any_arrangement_of_target_words_drafts_verbatim_phrases_and_valid_toml(pieces: list[str]) -> None:
    text = INTRO + "".join(pieces) + "\n"
    draft = draft_text(text)
    for item in draft.items:
        assert item.phrase and text[item.start:item.end] == item.phrase
    tomllib.loads(to_toml(draft, "x.txt"))
    assert len(json.loads(to_json(draft))) == len(draft.items)


@pytest.mark.parametrize("tail", ["\n1“\n.\n", "\n“\n1\n"], ids=["quote-then-break", "break-inside-quotes"])
def test_a_number_not_drafted_is_listed_on_one_comment_line_when_its_clause_spans_lines(tail: str) -> None:
    # Found by the property test above: the clause quoted beside a skipped number kept the report's line break,
    # and the line after it was not a comment, so the draft was not TOML.
    draft = draft_text(INTRO + tail)
    assert draft.skipped and any("\n" in clause for _, clause in draft.skipped)
    written = to_toml(draft, "x.txt")
    tomllib.loads(written)
    listed = written.split("# Numbers read and not drafted, and why\n", 1)[1].splitlines()[1:]
    assert len(listed) == len(draft.skipped) and all(line.startswith("# 1 «") for line in listed)


def test_the_region_is_written_into_the_header_beside_the_year(tmp_path: Path) -> None:
    report = FIXTURES / "clean_2025_targets.txt"
    out = tmp_path / "draft.toml"
    assert main([str(report), "--region", "jiangyin", "-o", str(out)]) == 0
    written = out.read_text(encoding="utf-8")
    doc = tomllib.loads(written)
    assert (doc["region"], doc["year"]) == ("jiangyin", 2025)
    assert 'region = "jiangyin"  # 江阴市 (shared/regions.py)\nyear = 2025\n' in written
    # The loader reads it as Jiangyin's: a district's catalogue may not redefine the city's departments, which the
    # draft copies from the keyword table for the reviewer to replace (the header comment says so).
    with pytest.raises(CatalogueError, match="a department of region 'jiangyin' is named jiangyin_<id>"):
        parse_catalogue(written)
    # The city's region loads as the city's; without --region the header has no region (the loader's default).
    assert parse_catalogue(to_toml(draft_text(fixture("clean_2025_targets.txt"), region="wuxi"), "r.txt")).key == (
        "wuxi", 2025)
    assert "region" not in tomllib.loads(to_toml(draft_text(fixture("clean_2025_targets.txt")), "r.txt"))


@pytest.mark.parametrize("region", ["suzhou", "Jiangyin", "江阴市", ""])
def test_an_unknown_region_is_refused_in_chinese_naming_the_option_and_nothing_is_written(
        region: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "never.toml"
    with pytest.raises(SystemExit) as exit_:
        main([str(FIXTURES / "clean_2025_targets.txt"), "--region", region, "-o", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --region: 没有“{region}”这个板块" in err
    assert "jiangyin（江阴市）" in err and "shared/regions.py" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(DraftError, match=r"^--region：没有.*unknown region"):
        draft_text(fixture("clean_2025_targets.txt"), region=region)
