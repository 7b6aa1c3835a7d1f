"""Reading the files bureaus upload, the rate limiter and key scopes: pure functions, no I/O."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from openpyxl.utils import get_column_letter

from services.ingest.adapters.workbook import column_letter
from services.ingest.domain.files import FileProblem, indicator_names, normalise_period, parse_file
from services.ingest.domain.keys import ApiKey, hash_key, new_key, scope_errors
from shared.catalogue import load_catalogue
from shared.limits import RateLimiter

CAT = load_catalogue()
HEADER = "指标,地区,期别,口径,数值,单位,数据状态,备注,来源\n"


@pytest.mark.parametrize(("raw", "code"), [
    ("2024", "2024"), ("2024年", "2024"), ("2024年3月", "2024-M03"), ("2024年1—3月", "2024-M03"),
    ("2024年1-2月", "2024-M02"), ("2024-03", "2024-M03"), ("2024年一季度", "2024-Q1"), ("2024年上半年", "2024-S1"),
    ("2024年前三季度", "2024-Q3"), ("2024Q2", "2024-Q2"), ("2024-M11", "2024-M11"), ("2024年13月", "2024-M13"),
])
def test_periods_as_bureaus_write_them(raw: str, code: str) -> None:
    assert normalise_period(raw) == code


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_chinese_spreadsheet_export_in_every_encoding_excel_writes(encoding: str) -> None:
    text = HEADER + "地区生产总值,江阴市,2024年一季度,累计增速,5.1,%,初步数,,江阴市统计局\n" \
                    "社会消费品零售总额,全市,2024年1—3月,累计,\"1,012.3\",亿元,最终核实数,季报,\n"
    parsed = parse_file(text.encode(encoding), CAT)
    assert parsed.errors == [] and parsed.format == "csv"
    assert parsed.encoding == ("utf-8" if encoding.startswith("utf") else "gb18030")
    [a, b] = parsed.rows
    assert (a.line, a.submission.indicator, a.submission.region, a.submission.period, a.submission.measure,
            a.submission.value, a.submission.status) == (2, "gdp", "jiangyin", "2024-Q1", "cumulative_yoy_pct",
                                                          5.1, "provisional")
    assert (b.line, b.submission.indicator, b.submission.region, b.submission.value, b.submission.status,
            b.submission.note) == (3, "retail_sales", "wuxi", 1012.3, "final", "季报")


def test_a_growth_basis_column_in_chinese_is_read() -> None:
    text = ("指标,期别,口径,数值,单位,增长口径\n居民人均可支配收入,2024年一季度,累计增速,5.1,%,名义增长\n"
            "居民人均可支配收入,2024年一季度,累计增速,3.6,%,实际\n地区生产总值,2024年一季度,累计增速,4.9,%,\n")
    parsed = parse_file(text.encode(), CAT)
    assert parsed.errors == []
    assert [r.submission.growth_basis for r in parsed.rows] == ["nominal", "real", None]


def test_sdmx_csv_with_unit_multiplier_and_status_codes() -> None:
    text = ("DATAFLOW,INDICATOR,REF_AREA,MEASURE,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,OBS_STATUS\n"
            "WUXI:TARGETS(1.0),gdp,wuxi,cumulative_level,2024-Q1,3652.1,CNY,8,P\n"
            "WUXI:TARGETS(1.0),gdp,wuxi,cumulative_yoy_pct,2024-Q1,4.9,PC,0,A\n")
    parsed = parse_file(text.encode(), CAT)
    assert parsed.format == "sdmx-csv" and parsed.errors == []
    assert [(r.submission.unit, r.submission.status) for r in parsed.rows] == [("亿元", "provisional"), ("%", "final")]
    bad = text.replace(",8,P", ",7,P")
    [err] = parse_file(bad.encode(), CAT).errors
    assert (err.row, err.field, err.rule) == (2, "UNIT_MULT", "unit_mult")


def test_formula_injection_is_refused_naming_line_and_column() -> None:
    text = HEADER + "=HYPERLINK(\"http://x\"),江阴市,2024-Q1,累计增速,5.1,%,初步数,,\n" \
                    "gdp,江阴市,2024-Q1,累计增速,5.1,%,初步数,@SUM(A1),+cmd\n" \
                    "gdp,江阴市,2024-Q1,累计增速,-0.5,%,初步数,,\n"
    parsed = parse_file(text.encode(), CAT)
    assert [(e.row, e.field, e.rule) for e in parsed.errors] == [
        (2, "指标", "formula_injection"), (3, "备注", "formula_injection"), (3, "来源", "formula_injection")]
    assert [r.submission.value for r in parsed.rows] == [-0.5]  # a negative number is not a formula


@pytest.mark.parametrize(("body", "rule", "line"), [
    (HEADER + 'gdp,wuxi,2024-Q1,累计增速,"5.1,%,初步数,,\n', "csv_quoting", 2),
    (HEADER + 'gdp,wuxi,2024-Q1,累计增速,"5"1",%,初步数,,\n', "csv_quoting", 2),
    ("", "empty_file", 1),
    ("指标,期别,数值\ngdp,2024,1\n", "missing_column", 1),
])
def test_unreadable_files_say_the_line_and_rule(body: str, rule: str, line: int) -> None:
    with pytest.raises(FileProblem) as exc:
        parse_file(body.encode(), CAT)
    assert (exc.value.rule, exc.value.line) == (rule, line)


def test_undecodable_bytes_are_an_encoding_problem() -> None:
    with pytest.raises(FileProblem) as exc:
        parse_file(HEADER.encode() + b"\xff\xfe\xff\n", CAT)
    assert exc.value.rule == "encoding"


def test_row_problems_are_collected_for_every_row() -> None:
    text = HEADER + "gdp,wuxi,2024-Q1,累计增速,abc,%,初步数,,\n" \
                    "gdp,wuxi,,累计增速,5,%,未知,,\n" \
                    "gdp,wuxi,2024-Q1,累计增速,5,%,初步数,,,extra\n"
    parsed = parse_file(text.encode(), CAT)
    assert [(e.row, e.field, e.rule) for e in parsed.errors] == [
        (2, "数值", "number"), (3, "期别", "required"), (4, "(row)", "column_count")]


def test_rate_limiter_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(rate_per_s=2.0, burst=2, monotonic=lambda: now[0])
    assert [limiter.take("k") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("k") == pytest.approx(0.5)
    assert limiter.take("other") == 0.0
    now[0] = 0.5
    assert limiter.take("k") == 0.0
    assert RateLimiter.retry_after_header(0.2) == "1" and RateLimiter.retry_after_header(1.2) == "2"
    assert RateLimiter(0, 1).take("k") == 0.0


def test_keys_are_random_and_stored_only_as_hashes() -> None:
    a, b = new_key(), new_key()
    assert a != b and a.startswith("wxk_") and len(a) > 40
    assert hash_key(a) != hash_key(b) and len(hash_key(a)) == 64 and a not in hash_key(a)
    key = ApiKey("key_1", "江阴市统计局", None, "wxk_", frozenset({"gdp"}), frozenset({"jiangyin"}),
                 datetime(2024, 1, 1, tzinfo=UTC))
    known = {"gdp", "cpi"}
    assert [(e.row, e.field) for e in scope_errors(key, [(0, "gdp", "jiangyin"), (1, "cpi", "wuxi")], known)] == [
        (1, "indicator"), (1, "region")]
    # A name nobody knows is not "not allowed": validation calls it unknown, which says what is wrong.
    assert scope_errors(key, [(0, "城镇新增就业人口", "jiangyin"), (1, "gdp", "江阴县")], known) == []


def test_a_row_may_name_its_indicator_as_the_report_names_the_target() -> None:
    names = indicator_names(CAT)
    assert names["城镇新增就业人数"] == "urban_new_jobs" and names["城镇新增就业"] == "urban_new_jobs"
    assert all(CAT.indicators[i].name_zh == n for n, i in names.items() if n in
               {ind.name_zh for ind in CAT.indicators.values()})  # a target never renames another indicator
    text = "指标,地区,期别,口径,数值,单位\n城镇新增就业,江阴市,2024-M06,累计,1.2,万人\n"
    parsed = parse_file(text.encode(), CAT)
    assert parsed.errors == [] and parsed.rows[0].submission.indicator == "urban_new_jobs"


def test_tab_separated_unicode_text_export_and_the_clients_chunks() -> None:
    from services.ingest.client import split_file

    text = "指标\t地区\t期别\t口径\t数值\t单位\n" + "".join(
        f"gdp\t江阴市\t2024-Q{q}\t累计增速\t5.{q}\t%\n" for q in (1, 2, 3))
    parsed = parse_file(text.encode("utf-16").decode("utf-16").encode("utf-8-sig"), CAT)
    assert parsed.errors == [] and [r.submission.period for r in parsed.rows] == ["2024-Q1", "2024-Q2", "2024-Q3"]
    chunks, total = split_file(text.encode(), 2)
    assert total == 3 and [c.rows for c in chunks] == [2, 1]
    assert chunks[1].body.decode().splitlines()[0] == "指标\t地区\t期别\t口径\t数值\t单位"
    assert chunks[1].lines == {2: 4}
    assert [r.submission.period for r in parse_file(chunks[1].body, CAT).rows] == ["2024-Q3"]


def test_column_letters_are_excels() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 51, 701, 702)] == ["A", "Z", "AA", "AZ", "ZZ", "AAA"]
    assert all(column_letter(i) == get_column_letter(i + 1) for i in range(18_278))


def test_the_ingest_app_loads_openpyxl_only_for_a_workbook() -> None:
    """openpyxl (about 17 MB resident) is imported when a workbook is first read or written."""
    script = ("import sys; from services.ingest.main import create_app; "
              "from services.ingest.adapters.workbook import write_template; "
              "print('openpyxl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False", out.stderr
