"""The one way figures and periods are written in Chinese, shared by the evaluator's 研判 and the alerts."""

from __future__ import annotations

import pytest

from shared.wording import amount, approximately, figure_labels, number, period_label, points, reading_of, share


@pytest.mark.parametrize(
    ("code", "reading", "label"),
    [
        ("2024-M02", "cumulative", "2024年1—2月"),  # the combined 1—2月 release
        ("2024-M01", "cumulative", "2024年1月"),
        ("2024-M12", "cumulative", "2024年1—12月"),
        ("2024-Q1", "cumulative", "2024年一季度"),
        ("2024-Q2", "cumulative", "2024年上半年"),
        ("2024-S1", "cumulative", "2024年上半年"),
        ("2024-Q3", "cumulative", "2024年前三季度"),
        ("2024-Q4", "cumulative", "2024年全年"),
        ("2024-S2", "cumulative", "2024年全年"),
        ("2024", "cumulative", "2024年全年"),
        ("2024-M06", "at_date", "2024年6月末"),  # stocks at a date: 6月末, never 1—6月
        ("2024-Q2", "at_date", "2024年6月末"),  # the same date, whatever the period's frequency
        ("2024-S1", "at_date", "2024年6月末"),
        ("2024-Q4", "at_date", "2024年末"),
        ("2024", "at_date", "2024年末"),
        ("2024-M06", "period", "2024年6月"),
        ("2024-Q2", "period", "2024年二季度"),
        ("2024-S2", "period", "2024年下半年"),
        ("2024", "period", "2024年"),
        ("2024-Q9", "cumulative", "2024-Q9"),  # not a period: shown as it came
    ],
)
def test_periods_are_named_as_releases_name_them(code: str, reading: str, label: str) -> None:
    assert period_label(code, reading) == label  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("measure", "at_date", "reading"),
    [("cumulative_level", False, "cumulative"), ("cumulative_yoy_pct", True, "cumulative"),
     ("level", True, "at_date"), ("yoy_pct", True, "at_date"), ("level", False, "period"),
     ("yoy_pct", False, "period")],
)
def test_how_a_measure_is_dated(measure: str, at_date: bool, reading: str) -> None:
    assert reading_of(measure, at_date=at_date) == reading


@pytest.mark.parametrize(
    ("x", "unit", "text"),
    [
        (4550.0, "亿元", "4550"), (1500.0, "亿元", "1500"), (12345.678, "亿元", "12345.68"),  # no separators
        (0.6000000001, "%", "0.6"), (4.97, "%", "4.97"), (-0.0, "%", "0"),
        (490.0, "家", "490"), (4.5, "个", "4.5"),  # a count whole; a ratio in a count unit keeps its decimal
        (1.2453, "万家", "1.2453"), (1.1, "万家", "1.1"), (6.52, "万人", "6.52"), (48123.0, "元", "48123"),
        (float("nan"), "亿元", "—"),
    ],
)
def test_numbers_are_written_as_releases_write_them(x: float, unit: str, text: str) -> None:
    assert number(x, unit) == text


def test_amounts_shares_points_and_projections() -> None:
    assert amount(1500.0, "亿元") == "1500亿元" and amount(5.5, "%") == "5.5%"
    assert share(0.50549) == "50.5%" and share(0.5) == "50%" and share(1.0384) == "103.8%"
    assert points(-0.6) == "0.6个百分点" and points(2.25) == "2.25个百分点"
    assert approximately(3636.36, "亿元") == "约3640亿元"
    assert approximately(14.73, "万人") == "约14.7万人"
    assert approximately(612.4, "家") == "约612家"


def test_rates_are_labelled_as_rates_and_amounts_as_amounts() -> None:
    assert figure_labels("growth_rate")[:2] == ("实际增速", "目标增速")
    assert figure_labels("cumulative_total") == ("累计完成", "序时进度要求", "完成率")
    assert figure_labels("count") == figure_labels("cumulative_total")
