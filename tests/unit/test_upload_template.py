"""The template a bureau downloads (services/ingest/domain/templates.py) reads back as what it says: its example
row, once 数值 is filled in, is accepted for every indicator a key may write; left blank, it is refused; the
template lists only what the key may write; and 期别 is the last period that has ended."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.ingest.domain.files import parse_table
from services.ingest.domain.keys import ApiKey
from services.ingest.domain.observations import Checked, check_submission
from services.ingest.domain.templates import COLUMNS, INSTRUCTIONS, STATUS_NAMES, build_template, last_ended_period
from shared.catalogue import load_catalogue
from shared.catalogue.model import Frequency

CAT = load_catalogue()
TODAY = date(2024, 8, 15)


def _key(indicators: set[str] | None = None, regions: set[str] | None = None) -> ApiKey:
    return ApiKey("key_1", "市统计局", None, "wxk_x", None if indicators is None else frozenset(indicators),
                  None if regions is None else frozenset(regions), datetime(2024, 1, 1, tzinfo=UTC))


def _read(row: tuple[str, ...]):  # type: ignore[no-untyped-def]
    parsed = parse_table(list(COLUMNS), [(2, list(row))], CAT, encoding="utf-8", kind="xlsx")
    return parsed, [check_submission(CAT, r.line, r.submission, TODAY) for r in parsed.rows]


@pytest.mark.parametrize("indicator", sorted(CAT.indicators))
def test_the_example_row_filled_in_is_accepted_for_every_indicator(indicator: str) -> None:
    t = build_template(CAT, _key({indicator}), TODAY)
    assert [i.id for i in t.indicators] == [indicator]
    row = list(t.example)
    ind = CAT.indicators[indicator]
    low, high = ind.min_value if ind.min_value is not None else 0.0, ind.max_value
    value = 5.5 if t.example[5] == "%" else (low + high) / 2 if high is not None else low + 12.5  # plausible
    row[COLUMNS.index("数值")] = f"{value:g}"
    parsed, checked = _read(tuple(row))
    assert parsed.errors == [] and len(checked) == 1 and isinstance(checked[0], Checked), (t.example, checked)
    assert checked[0].indicator.id == indicator and checked[0].value == pytest.approx(value)


def test_the_example_row_left_blank_is_refused_naming_its_row_and_column() -> None:
    t = build_template(CAT, _key({"gdp"}), TODAY)
    parsed, checked = _read(t.example)
    problems = parsed.errors + [e for c in checked if isinstance(c, list) for e in c]
    assert problems and all(p.row == 2 for p in problems)
    assert any(p.field == "数值" or p.field == "value" for p in problems), problems


def test_a_template_lists_only_what_its_key_may_write() -> None:
    t = build_template(CAT, _key({"gdp", "cpi"}, {"jiangyin"}), TODAY)
    assert {i.id for i in t.indicators} == {"gdp", "cpi"} and t.regions == ("江阴市",)
    gdp = next(i for i in t.indicators if i.id == "gdp")
    assert (gdp.name_zh, gdp.frequency_zh, gdp.period_writing) == (
        CAT.indicators["gdp"].name_zh, "季度", "2024年二季度、2024年前三季度；也可按半年、年报送")
    assert t.example[:4] == (CAT.indicators[t.indicators[0].id].name_zh, "江阴市", t.example[2], t.example[3])
    assert t.columns == COLUMNS and t.statuses == STATUS_NAMES and t.instructions == INSTRUCTIONS
    assert t.measures == ("当期", "累计", "同比增长", "累计增速")
    every = build_template(CAT, _key(), TODAY)
    assert len(every.indicators) == len(CAT.indicators) and "无锡市" in every.regions
    nothing = build_template(CAT, _key(set()), TODAY)
    assert nothing.indicators == () and nothing.example == ()


@pytest.mark.parametrize(("frequency", "today", "period"), [
    (Frequency.MONTHLY, date(2024, 8, 15), "2024年7月"),
    (Frequency.MONTHLY, date(2024, 1, 10), "2023年12月"),
    (Frequency.QUARTERLY, date(2024, 8, 15), "2024年二季度"),
    (Frequency.QUARTERLY, date(2024, 4, 1), "2024年一季度"),
    (Frequency.QUARTERLY, date(2024, 3, 31), "2023年四季度"),
    (Frequency.QUARTERLY, date(2024, 12, 31), "2024年三季度"),
    (Frequency.HALF_YEARLY, date(2024, 7, 1), "2024年上半年"),
    (Frequency.HALF_YEARLY, date(2024, 6, 30), "2023年下半年"),
    (Frequency.ANNUAL, date(2024, 12, 31), "2023年"),
])
def test_the_period_offered_is_the_last_that_has_ended(frequency: Frequency, today: date, period: str) -> None:
    assert last_ended_period(frequency, today) == period
