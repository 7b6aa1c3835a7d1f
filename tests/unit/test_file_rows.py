"""How each row of a bureau's file is read (services/ingest/domain/files.py), as a table: what a clerk may write
and what it becomes, and each refusal whole (the row, the column as the file writes it, the rule, both
languages). The API tests (tests/integration) check the same through HTTP; these run on every mutant."""

from __future__ import annotations

import pytest

from services.ingest.domain.files import FileProblem, normalise_period, parse_table
from services.ingest.domain.observations import FieldError, Submission
from shared.catalogue import load_catalogue

CAT = load_catalogue()
HEADER = ["指标", "地区", "期别", "口径", "数值", "单位", "数据状态", "备注", "增长口径"]


def _rows(*cells: list[str], header: list[str] = HEADER):  # type: ignore[no-untyped-def]
    return parse_table(header, [(i + 2, c) for i, c in enumerate(cells)], CAT, encoding="utf-8")


def _row(gdp: dict[str, str]) -> list[str]:
    base = {"指标": "gdp", "地区": "无锡市", "期别": "2024年一季度", "口径": "累计增速", "数值": "5.2", "单位": "%",
            "数据状态": "", "备注": "", "增长口径": ""}
    return [{**base, **gdp}[h] for h in HEADER]


@pytest.mark.parametrize(("cells", "submission"), [
    ({}, Submission(indicator="gdp", region="wuxi", period="2024-Q1", measure="cumulative_yoy_pct", value=5.2,
                    unit="%", status="provisional")),
    ({"指标": "地区生产总值", "地区": "江阴", "期别": "2024年1—3月", "口径": "累计", "数值": "1,378,600",
      "单位": "亿元", "数据状态": "快报"},
     Submission(indicator="gdp", region="jiangyin", period="2024-M03", measure="cumulative_level", value=1378600.0,
                unit="亿元", status="provisional")),
    ({"地区": "", "数值": "５．２", "数据状态": "最终核实数", "备注": "含修订", "增长口径": "可比价"},
     Submission(indicator="gdp", region="wuxi", period="2024-Q1", measure="cumulative_yoy_pct", value=5.2, unit="%",
                status="final", note="含修订", growth_basis="real")),
    ({"期别": "2024-03", "口径": "同比", "数值": "-0.3%", "数据状态": "E", "增长口径": "名义"},
     Submission(indicator="gdp", region="wuxi", period="2024-M03", measure="yoy_pct", value=-0.3, unit="%",
                status="estimated", growth_basis="nominal")),
    ({"期别": "2024", "口径": "当期", "单位": "CNY", "增长口径": "按现价"},
     Submission(indicator="gdp", region="wuxi", period="2024", measure="level", value=5.2, unit="元",
                status="provisional", growth_basis="按现价")),  # passed on: validation refuses it by name
], ids=["as-the-template", "names-and-thousands", "full-width-and-final", "iso-month-estimated", "code-units"])
def test_what_a_clerk_writes_and_what_it_becomes(cells: dict[str, str], submission: Submission) -> None:
    parsed = _rows(_row(cells))
    assert parsed.errors == [] and [(r.line, r.submission) for r in parsed.rows] == [(2, submission)]


def _error(row: list[str]) -> list[FieldError]:
    parsed = _rows(row)
    assert parsed.rows == []
    return parsed.errors


@pytest.mark.parametrize(("cells", "errors"), [
    ({"备注": "=1+1"}, [FieldError(2, "备注", "formula_injection", "'=1+1' starts with '=', which a spreadsheet would "
                                   "run as a formula; remove the leading character",
                                   "“=1+1”以“=”开头，电子表格会把它当作公式执行；请删去开头的字符")]),
    ({"数值": "=SUM(A1)"}, [FieldError(2, "数值", "formula_injection", "'=SUM(A1)' is a formula, not a number",
                                     "“=SUM(A1)”是公式，不是数值")]),
    ({"单位": "x" * 17}, [FieldError(2, "单位", "too_long", "longer than 16 characters", "超过16个字符")]),
    ({"期别": "", "数值": ""}, [FieldError(2, "期别", "required", "期别 is empty", "“期别”为空"),
                               FieldError(2, "数值", "required", "数值 is empty", "“数值”为空")]),
    ({"数值": "五点二"}, [FieldError(2, "数值", "number", "'五点二' is not a number", "“五点二”不是数值")]),
    ({"数据状态": "暂定"}, [FieldError(2, "数据状态", "status", "'暂定' is not a status: 初步数/预计数/最终核实数, "
                                    "provisional/estimated/final or SDMX P/E/A",
                                    "“暂定”不是数据状态：应为初步数、预计数或最终核实数（或 SDMX 的 P、E、A）")]),
], ids=["formula-in-text", "formula-as-value", "too-long", "required", "not-a-number", "status"])
def test_a_refused_row(cells: dict[str, str], errors: list[FieldError]) -> None:
    assert _error(_row(cells)) == errors


def test_a_row_wider_than_the_header_and_blank_rows() -> None:
    parsed = _rows([*_row({}), "多出"], ["", " ", ""], _row({}))
    assert parsed.errors == [FieldError(2, "(row)", "column_count", "10 cells but the header has 9 columns",
                                        "本行有10个单元格，而表头只有9列")]
    assert [r.line for r in parsed.rows] == [4]  # the blank row 3 is skipped, not refused


def test_sdmx_units_and_their_refusal() -> None:
    header = ["INDICATOR", "TIME_PERIOD", "MEASURE", "OBS_VALUE", "UNIT_MEASURE", "UNIT_MULT", "OBS_STATUS"]
    parsed = _rows(["gdp", "2024Q1", "cumulative_level", "3000", "CNY", "8", "A"],
                   ["gdp", "2024Q1", "cumulative_level", "3000", "CNY", "7", "A"], header=header)
    assert parsed.format == "sdmx-csv"
    assert [(r.submission.period, r.submission.unit, r.submission.status) for r in parsed.rows] == [
        ("2024-Q1", "亿元", "final")]
    assert parsed.errors == [FieldError(3, "UNIT_MULT", "unit_mult",
                                        "UNIT_MEASURE 'CNY' with UNIT_MULT '7' is not a unit ingest knows",
                                        "UNIT_MEASURE“CNY”与 UNIT_MULT“7”组合不是可识别的单位")]


@pytest.mark.parametrize(("header", "rule", "message", "message_zh"), [
    (["指标", "indicator", "期别", "口径", "数值", "单位"], "duplicate_column",
     "columns '指标' and 'indicator' both give indicator", "“指标”和“indicator”两列表示同一字段（indicator）"),
    (["指标", "期别", "数值"], "missing_column",
     "the header line lacks the column(s): measure (口径 / 指标口径 / measure); unit (单位 / 计量单位 / unit)",
     "表头缺少以下列：口径（指标口径 / measure）；单位（计量单位 / unit）"),
], ids=["duplicate", "missing"])
def test_an_unusable_header(header: list[str], rule: str, message: str, message_zh: str) -> None:
    with pytest.raises(FileProblem) as exc:
        _rows(header=header)
    assert (exc.value.rule, exc.value.message, exc.value.message_zh, exc.value.line) == (rule, message, message_zh, 1)


def test_an_sdmx_file_needs_its_two_columns() -> None:
    with pytest.raises(FileProblem) as exc:
        parse_table(HEADER, [], CAT, "sdmx-csv", encoding="utf-8")
    assert (exc.value.rule, exc.value.message_zh) == ("sdmx_header", "SDMX-CSV 文件须有 TIME_PERIOD 和 OBS_VALUE 两列")


@pytest.mark.parametrize(("raw", "code"), [
    ("2024年", "2024"), ("2024年度", "2024"), ("2024全年", "2024"), ("2024年6月", "2024-M06"),
    ("2024年1-6月", "2024-M06"), ("2024年1至6月份", "2024-M06"), ("2024-06", "2024-M06"), ("2024年上半年", "2024-S1"),
    ("2024前三季度", "2024-Q3"), ("2024Q2", "2024-Q2"), ("2024M06", "2024-M06"), (" 2024 年 二季度 ", "2024-Q2"),
    ("2024/6/30", "2024/6/30"),  # a date is passed on, and refused by validation with a hint
])
def test_periods_as_bureaus_write_them(raw: str, code: str) -> None:
    assert normalise_period(raw) == code
