"""The draft's reading fields (strength and marker, accrual, schedule, basis) and the keyword table they come from.

Each rule is tested through ``draft_text``; where the keyword table decides, the same sentence is drafted again
with the table's entry changed, so the test fails if the decision is not taken from the table.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from shared.catalogue.draft import DraftItem, draft_text, read_report
from shared.catalogue.draft.emit import to_toml
from shared.catalogue.draft.keywords import DEFAULT_TABLE, KeywordTable, load_table
from shared.catalogue.loader import CatalogueError, load_catalogue, parse_catalogue
from shared.catalogue.model import Indicator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
INTRO = "二、2024年主要工作\n\n今年的主要预期目标："
SECTION = INTRO + "地区生产总值增长5%左右。\n\n（一）聚力发展。"
CATALOGUE = load_catalogue()


def in_section(body: str, **kw: Any) -> DraftItem:
    """The one target drafted from a sentence of section （一）."""
    items = [i for i in draft_text(SECTION + body + "\n", **kw).items if i.section == "1"]
    assert len(items) == 1, [i.phrase for i in items]
    return items[0]


def settled(toml_text: str) -> str:
    """The draft as a person leaves it who accepts every proposal: the review lists deleted."""
    return re.sub(r"\nreview = \[\n(?:    .*\n)*\]", "", toml_text)


def table_with(ind_id: str, *, drop: tuple[str, ...] = (), fields: dict[str, Any] | None = None,
               **changes: Any) -> KeywordTable:
    """The keyword table with one indicator entry changed."""
    table = load_table()
    entry = table.indicators[ind_id]
    new_fields = {k: v for k, v in entry.fields.items() if k not in drop} | (fields or {})
    indicators = dict(table.indicators) | {ind_id: dataclasses.replace(entry, fields=new_fields, **changes)}
    return dataclasses.replace(table, indicators=indicators)


def reviews(item: DraftItem, prefix: str) -> list[str]:
    return [r for r in item.review if r.startswith(prefix)]


# --- strength and its marker -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "strength", "marker"),
    [
        ("确保新增停车泊位1万个以上。", "binding", "确保"),
        ("力争新增停车泊位1万个以上。", "expected", "力争"),
        ("力促新增停车泊位1万个以上。", "expected", "力促"),
        ("新增停车泊位1万个左右。", "expected", "左右"),
    ],
)
def test_a_word_the_loader_accepts_is_written_as_the_marker(body: str, strength: str, marker: str) -> None:
    item = in_section(body)
    assert (item.strength, item.strength_marker) == (strength, marker)
    assert reviews(item, "strength") == []


def test_the_targets_paragraph_is_marked_by_its_own_title() -> None:
    (item,) = draft_text(INTRO + "固定资产投资4550亿元。\n").items
    # The word found is the title 主要预期目标; the catalogue's marker inside it is 预期目标 (the loader's word).
    assert (item.strength, item.strength_word, item.strength_marker) == ("expected", "主要预期目标", "预期目标")


@pytest.mark.parametrize(("body", "strength"), [("必须新增停车泊位1万个以上。", "binding"),
                                                ("努力新增停车泊位1万个以上。", "expected")])
def test_a_word_the_loader_does_not_accept_is_flagged_and_stays_refused(body: str, strength: str) -> None:
    draft = draft_text(SECTION + body + "\n")
    item = draft.items[-1]
    word = body[:2]
    assert (item.strength, item.strength_marker) == (strength, word)  # as found: no marker is made up
    assert len(reviews(item, "strength_marker:")) == 1 and word in item.review[0]
    # Deleting the review list is not enough: the loader names the field until a person writes a marker.
    with pytest.raises(CatalogueError, match="field 'strength_marker'"):
        parse_catalogue(settled(to_toml(draft, "x.txt")))


def test_no_word_is_written_as_expected_with_no_marker_and_flagged() -> None:
    item = in_section("新增停车泊位1万个以上。")
    assert (item.strength, item.strength_word, item.strength_marker) == ("expected", "", "")
    assert len(reviews(item, "strength:")) == 1


@pytest.mark.parametrize(("default", "marker"), [("binding", "约束性"), ("expected", "")])
def test_default_strength_writes_entries_that_load_as_they_are(default: str, marker: str) -> None:
    draft = draft_text(SECTION + "新增停车泊位1万个以上。\n", default_strength=default)
    item = draft.items[-1]
    assert (item.strength, item.strength_word, item.strength_marker) == (default, "--default-strength", marker)
    assert all(not i.review for i in draft.items)
    toml_text = to_toml(draft, "x.txt")
    target = parse_catalogue(toml_text).targets[item.id]  # no review to settle: it loads as written
    assert (target.strength, target.strength_marker) == (default, marker)
    assert ("strength_marker 约束性: from --default-strength" in toml_text) == (default == "binding")


# --- accrual ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind", "accrual"),
    [
        ("新增停车泊位1万个以上。", "count", "new_this_year"),
        ("完成二次供水改造项目100个。", "count", "new_this_year"),
        ("净增高新技术企业1000家。", "count", "net_added"),
        ("普惠小微贷款余额达到900亿元。", "level", "stock"),
        ("住宅小区业委会覆盖率提高到70%。", "level", "stock"),
        ("数字经济企业达500家。", "count", "stock"),  # 达 before the number: a level reached
        ("新增数字经济企业达500家。", "count", "new_this_year"),  # 新增 wins over 达
        ("建成27块污水处理提质增效达标区。", "count", "new_this_year"),  # 达标区 is a thing built, not 达
        ("外贸进出口总额稳定在1200亿元左右。", "cumulative_total", "new_this_year"),  # a total is the year's amount
    ],
)
def test_accrual_from_the_words(body: str, kind: str, accrual: str) -> None:
    item = in_section(body)
    assert (item.kind, item.accrual) == (kind, accrual)
    assert reviews(item, "accrual:") == []


def test_the_keyword_table_overrides_the_words_reading_of_accrual() -> None:
    body = "科技型中小企业评价入库达1.4万家。"
    item = in_section(body)
    assert item.accrual == "new_this_year" and "accrual: new_this_year (keyword table)" in item.notes
    # Without the table's accrual the words read 入库 … 达 as a stock.
    assert in_section(body, table=table_with("tech_smes_registered", accrual=None)).accrual == "stock"


def test_an_indicator_at_a_date_is_a_stock() -> None:
    body = "建成停车泊位1万个。"
    assert in_section(body).accrual == "new_this_year"  # 建成: built in the year
    at_date = table_with("new_parking_spaces", fields={"at_date": True})
    assert in_section(body, table=at_date).accrual == "stock"


@pytest.mark.parametrize(("body", "kind", "written"), [("停车泊位1万个。", "count", "new_this_year"),
                                                       ("粮食产量1.3万亿斤以上。", "level", "stock")])
def test_no_word_for_accrual_writes_the_kinds_reading_and_flags_it(body: str, kind: str, written: str) -> None:
    item = in_section(body)
    assert (item.kind, item.accrual) == (kind, written)
    assert len(reviews(item, "accrual:")) == 1


# --- schedule --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "kind", "schedule"),
    [
        ("新增停车泊位1万个以上。", "count", "linear"),  # quarterly: 序时进度
        ("完成太湖清淤520万立方米。", "cumulative_total", "linear"),
        ("住宅小区业委会覆盖率提高到70%。", "level", "linear"),  # a stock: straight path from last year's end
        ("新增国家专精特新“小巨人”企业80家以上。", "count", "year_end"),  # an annual list
        ("来自企业的发明专利授权量占比达到75%以上。", "share", "direct"),  # a year-to-date share, quarterly
        ("力争数字经济核心产业增加值占GDP比重达到12.2%左右。", "share", "year_end"),  # an annual share
    ],
)
def test_schedule_from_the_kind_and_the_frequency(body: str, kind: str, schedule: str) -> None:
    item = in_section(body)
    assert (item.kind, item.schedule, item.batch_months) == (kind, schedule, ())
    assert reviews(item, "schedule:") == []
    assert item.accrual is None if kind == "share" else item.accrual is not None


def test_batches_come_from_the_keyword_table_else_a_recognition_is_flagged() -> None:
    body = "新增规上工业企业500家以上。"
    item = in_section(body)
    assert (item.schedule, item.batch_months) == ("batch", (12,))
    unknown = in_section(body, table=table_with("new_above_scale_industrial", batch_months=()))
    assert (unknown.schedule, unknown.batch_months) == ("linear", ())
    (note,) = reviews(unknown, "schedule:")
    assert "“规上”" in note and 'schedule = "batch"' in note
    # A count that is not a recognition is read linearly with nothing to review.
    assert reviews(in_section("新增停车泊位1万个以上。"), "schedule:") == []


def test_a_new_indicator_is_read_at_the_year_end_and_flagged() -> None:
    item = in_section("新增数字经济企业达500家。")
    assert item.indicator is not None and item.indicator.startswith("todo_")
    assert item.schedule == "year_end" and len(reviews(item, "schedule:")) == 1


# --- basis of a relational target ------------------------------------------------------------------------

_IN_STEP = INTRO + "居民人均可支配收入与经济增长基本同步。\n"


def test_unlike_bases_are_flagged_and_no_basis_is_written() -> None:
    national = draft_text(read_report(FIXTURES / "national_2024_targets.txt")).items
    item = next(i for i in national if i.kind == "relational")
    assert item.basis is None
    (note,) = reviews(item, "basis:")
    assert "disposable_income grows nominal, gdp real" in note and "params.deflator" in note


def test_a_basis_both_indicators_state_is_written_and_loads() -> None:
    table = table_with("disposable_income", fields={"growth_basis": "real"})
    draft = draft_text(_IN_STEP, table=table)
    (item,) = draft.items
    assert item.basis == "real" and reviews(item, "basis:") == []
    assert parse_catalogue(settled(to_toml(draft, "x.txt"))).targets[item.id].basis == "real"


def test_an_indicator_without_a_growth_basis_is_named() -> None:
    (item,) = draft_text(_IN_STEP, table=table_with("gdp", drop=("growth_basis",))).items
    assert item.basis is None
    (note,) = reviews(item, "basis:")
    assert note.startswith("basis: gdp states no growth_basis")


# --- the keyword table -----------------------------------------------------------------------------------


def test_the_tables_indicators_are_the_catalogues_own() -> None:
    table = load_table()
    shared_ids = set(table.indicators) & set(CATALOGUE.indicators)
    assert len(shared_ids) == 88
    for ind_id in shared_ids:  # growth_basis, at_date, provisional_zh included
        assert Indicator.model_validate(table.indicators[ind_id].fields) == CATALOGUE.indicators[ind_id], ind_id


def test_the_tables_accruals_and_batches_are_the_catalogues_decisions() -> None:
    table = load_table()
    overridden = {i: e for i, e in table.indicators.items() if e.accrual is not None or e.batch_months}
    assert overridden  # the test below would pass on an empty table
    for t in CATALOGUE.targets.values():
        entry = table.indicators.get(t.indicator or "")
        if entry is None:
            continue
        if entry.accrual is not None:
            assert t.accrual == entry.accrual, t.id
        if t.schedule == "batch":
            assert entry.batch_months == t.batch_months, t.id  # every batch the catalogue knows is in the table
        elif entry.batch_months:
            pytest.fail(f"{t.id}: batch_months in the table, {t.schedule} in the catalogue")


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ('accrual = "new_this_year"', 'accrual = "flow"', "accrual 'flow' is not one of"),
        ("batch_months = [12]", "batch_months = [12, 3]", "ascending"),
        ('keywords = ["专精特新“小巨人”"', 'batch_months = [12]\nkeywords = ["专精特新“小巨人”"', "annual"),
    ],
)
def test_a_table_with_a_reading_the_loader_refuses_is_refused(tmp_path: Path, old: str, new: str,
                                                              rule: str) -> None:
    text = DEFAULT_TABLE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "keywords.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=rule):
        load_table(path)
