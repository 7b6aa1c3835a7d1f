"""Excel workbooks uploaded as bureaus save them (title banners, text numbers, dates, formulas, a 合计 row),
through the real ingest app on SQLite and PostgreSQL; and the templates, filled in and uploaded back."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Font

from devstack.broker import TansuBroker
from services.ingest import client as cli
from tests.integration.ingest_app import Ingest, running_ingest, serving

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["指标", "地区", "期别", "口径", "数值", "单位", "数据状态"]


@pytest.fixture
def ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[Ingest]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix) as app:
        yield app


def workbook(rows: list[list[Any]], *, title: str | None = None, merge: str | None = None,
             cached: dict[str, str] | None = None, sheets_before: tuple[str, ...] = (),
             styled_tail: int | None = None) -> bytes:
    """An .xlsx file built with openpyxl: ``rows`` from row 1 (or row 2 under a merged title banner)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for name in sheets_before:  # sheets before the data sheet: the data sheet is then not the first
        wb.create_sheet(name, 0)["A1"] = "说明"
    ws.title = "报表"
    if title is not None:
        ws.append([title])
        ws.merge_cells("A1:G1")
    for row in rows:
        ws.append(row)
    if merge is not None:
        ws.merge_cells(merge)
    if styled_tail is not None:  # formatted but empty rows, as a sheet dragged too far down has
        for col in range(1, 8):
            ws.cell(row=styled_tail, column=col).font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    # openpyxl writes formulas without their computed value; Excel stores one (<v>): add it where asked.
    return _with_cached_values(data, ws.title, cached) if cached else data


def _with_cached_values(data: bytes, title: str, cached: dict[str, str]) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                text = body.decode()
                for ref, value in cached.items():
                    text, n = re.subn(rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>', rf"\1<v>{value}</v>", text)
                    if n:
                        body = text.encode()
                body = text.encode()
            dst.writestr(item, body)
    return out.getvalue()


def _post(ingest: Ingest, body: bytes, auth: dict[str, str], content_type: str = XLSX, **params: str):  # type: ignore[no-untyped-def]
    return ingest.client.post("/v1/observations/upload", content=body, params=params,
                              headers={**auth, "Content-Type": content_type})


def _stored(ingest: Ingest, auth: dict[str, str], indicator: str, period: str, measure: str) -> dict[str, Any]:
    r = ingest.client.get("/v1/observations", headers=auth, params={
        "indicator": indicator, "region": "jiangyin", "period": period})
    return next(o for o in r.json() if o["measure"] == measure)


def test_a_bureaus_workbook_is_stored_with_dates_text_numbers_formulas_and_a_total_row(ingest: Ingest) -> None:
    auth = ingest.key("江阴市统计局", regions=["jiangyin"])
    body = workbook([
        HEADER,
        ["地区生产总值", "江阴市", "2024年上半年", "累计", 2451.37, "亿元", "初步数"],
        ["一般公共预算收入", "江阴市", datetime(2024, 6, 1), "累计", "1,378,600", "万元", "快报"],
        ["一般公共预算收入", "江阴市", "2024年1—6月", "累计增速", "２．１", "%", "快报"],
        ["地区生产总值", "江阴市", "2024年上半年", "累计增速", "=2.9*2", "%", "初步数"],
        [],
        ["合计", None, None, None, "=E3+E4", None, None],
    ], title="2024年上半年江阴市主要经济指标", cached={"E6": "5.8", "E8": "1381051.37"},
        sheets_before=("填写说明",), styled_tail=40)
    dry = _post(ingest, body, auth, dry_run="true", sheet="报表")
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 4 and ingest.outbox_count() == 0
    r = _post(ingest, body, auth, sheet="报表")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["format"], doc["sheet"]) == ("xlsx", "报表")
    assert [row["line"] for row in doc["rows"]] == [3, 4, 5, 6]  # the sheet's rows, under the title banner
    assert [s["line"] for s in doc["skipped_rows"]] == [8] and "合计" in doc["skipped_rows"][0]["reason"]
    assert ingest.outbox_count() == 4
    revenue = _stored(ingest, auth, "general_budget_revenue", "2024-M06", "cumulative_level")
    assert (revenue["value"], revenue["submitted_value"], revenue["submitted_unit"]) == (137.86, 1378600.0, "万元")
    assert _stored(ingest, auth, "general_budget_revenue", "2024-M06", "cumulative_yoy_pct")["value"] == 2.1
    assert _stored(ingest, auth, "gdp", "2024-S1", "cumulative_yoy_pct")["value"] == 5.8  # the formula's value


def test_workbook_refusals_name_row_and_column_and_store_nothing(ingest: Ingest) -> None:
    auth = ingest.key("江阴市统计局", regions=["jiangyin"])
    body = workbook([
        HEADER,
        ["地区生产总值", "江阴市", "2024年上半年", "累计", 2451.37, "亿元", "初步数"],
        ["一般公共预算收入", "江阴市", datetime(2024, 6, 30), "累计", 1378600, "万元", "快报"],
        ["地区生产总值", "江阴市", "2024年上半年", "累计增速", "=2.9*2", "%", "初步数"],
        ["一般公共预算收入", "江阴市", "2024年1—6月", "累计增速", "abc", "%", "快报"],
    ])
    r = _post(ingest, body, auth)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [(e["loc"], e["type"]) for e in errors] == [
        (["file", 3, "期别"], "period_date_ambiguous"),
        (["file", 4, "数值"], "formula_without_value"),
        (["file", 5, "数值"], "number"),
    ]
    assert errors[0]["msg_zh"].startswith("第3行 C列：日期 2024-06-30")
    assert errors[1]["msg_zh"].startswith("第4行 E列：公式")
    assert errors[2]["msg_zh"] == "第5行 E列：“abc”不是数值"
    assert ingest.outbox_count() == 0
    assert ingest.client.get("/v1/observations", headers=auth,
                             params={"indicator": "gdp", "region": "jiangyin"}).json() == []


def test_unreadable_workbooks_are_refused_in_chinese(ingest: Ingest) -> None:
    auth = ingest.key()
    r = _post(ingest, "指标,地区\n".encode(), auth)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "xlsx_invalid"
    assert "不是有效的 .xlsx 工作簿" in r.json()["errors"][0]["msg_zh"]
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    r = _post(ingest, broken.getvalue(), auth)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "xlsx_invalid"
    good = workbook([HEADER, ["地区生产总值", "江阴市", "2024年上半年", "累计", 2451.37, "亿元", "初步数"]])
    r = _post(ingest, good, auth, sheet="第二页")
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "unknown_sheet"
    assert "报表" in r.json()["errors"][0]["msg_zh"]
    merged = workbook([HEADER, ["地区生产总值", "江阴市", "2024年上半年", "累计", 2451.37, "亿元", "初步数"]],
                      merge="E1:F1")
    r = _post(ingest, merged, auth)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "merged_cells"
    assert "E1:F1" in r.json()["errors"][0]["msg_zh"]
    r = _post(ingest, workbook([["序号", "备注"], [1, "x"]]), auth)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "missing_column"
    assert ingest.outbox_count() == 0


def test_workbook_limits(database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    row = ["地区生产总值", "江阴市", "2024年上半年", "累计", 2451.37, "亿元", "初步数"]
    with running_ingest(database_url, broker.bootstrap, topic_prefix, max_batch_size=3) as ingest:
        auth = ingest.key()
        r = _post(ingest, workbook([HEADER, *[row] * 4]), auth)
        assert r.status_code == 422 and r.json()["errors"][0]["type"] == "too_many_rows"
    with running_ingest(database_url, broker.bootstrap, topic_prefix, max_body_bytes=2048) as ingest:
        r = _post(ingest, workbook([HEADER, row]), ingest.key())
        assert r.status_code == 413


def test_the_templates_filled_in_are_accepted(ingest: Ingest) -> None:
    auth = ingest.key("江阴市统计局", indicators=["gdp", "general_budget_revenue"], regions=["jiangyin"])
    r = ingest.client.get("/v1/templates.xlsx", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]][:7] == HEADER
    assert ws.freeze_panes == "A2"
    assert {str(dv.sqref)[0] for dv in ws.data_validations.dataValidation} >= {"A", "B", "D", "G"}
    assert {row[0] for row in wb["指标"].iter_rows(min_row=2, values_only=True)} == {"地区生产总值",
                                                                                    "一般公共预算收入"}
    assert "填写说明" in wb.sheetnames
    example = [c.value for c in ws[2]]
    assert example[4] is None  # the example row leaves 数值 blank: uploaded unfilled it is refused, not stored
    r = _post(ingest, r.content, auth, dry_run="true")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["file", 2, "数值"]

    ws.cell(row=2, column=5, value=2451.37)
    filled = io.BytesIO()
    wb.save(filled)
    r = _post(ingest, filled.getvalue(), auth)
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 1

    r = ingest.client.get("/v1/templates.csv", headers=auth)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:7] == HEADER and rows[1][4] == ""
    rows[1][4] = "2451.37"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    r = _post(ingest, out.getvalue().encode("utf-8-sig"), auth, content_type="text/csv")
    assert r.status_code == 201, r.text
    assert r.json()["unchanged"] == 1  # the same figure as the workbook's

    assert ingest.client.get("/v1/templates.xlsx").status_code == 401


def test_the_command_line_client_uploads_a_workbook(ingest: Ingest, tmp_path: Path) -> None:
    key = ingest.key("江阴市统计局", regions=["jiangyin"])["Authorization"].removeprefix("Bearer ")
    path = tmp_path / "江阴.xlsx"
    path.write_bytes(workbook([HEADER, ["地区生产总值", "江阴市", "2024年上半年", "累计", 2451.37, "亿元", "初步数"],
                               ["合计", None, None, None, 2451.37, None, None]]))
    with serving(ingest) as url:
        out = io.StringIO()
        assert cli.upload(path, url=url, key=key, out=out, err=io.StringIO()) == 0, out.getvalue()
        assert "line     2  created" in out.getvalue() and ingest.outbox_count() == 1
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(workbook([HEADER, ["地区生产总值", "江阴市", "2024年上半年", "累计", "abc", "亿元", "初步数"]]))
        out = io.StringIO()
        assert cli.upload(bad, url=url, key=key, out=out, err=io.StringIO()) == 1
        assert "第2行 E列" in out.getvalue() and ingest.outbox_count() == 1
