"""Excel workbooks (.xlsx) in and out, with openpyxl: a bureau's sheet read as a table, and the template written.

Reading turns each cell into the text a CSV export would hold, so one set of header and row rules
(domain/files.py) serves both; what only a workbook can hold (dates, formulas, merged cells) is settled here,
each refusal naming the row and the column as Excel shows them (第5行 C列).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from services.ingest.domain.files import HEADERS, FileProblem
from services.ingest.domain.files import norm_header as _norm
from services.ingest.domain.observations import FieldError
from services.ingest.domain.templates import Template

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A last row whose first filled cell says this is the sheet's sum: skipped, and said so in the answer.
TOTAL_WORDS = frozenset({"合计", "总计", "小计", "总计：", "合计：", "total"})
# The header may sit under a title row or two (a merged “2024年上半年主要指标” banner is common).
HEADER_SEARCH_ROWS = 10
_ALIASES = {alias for aliases in HEADERS.values() for alias in aliases}
# openpyxl is imported inside the functions that read or write a workbook: it and the imaging library it
# brings are about 17 MB of a process that may never see one (ingest serving JSON batches).
_MERGE = re.compile(rb'<mergeCell[^>]*ref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


@dataclass
class SheetTable:
    """A worksheet as a table: its header, its rows as text, and what was refused or skipped on the way."""

    sheet: str
    header_line: int
    header: list[str]
    records: list[tuple[int, list[str]]]
    errors: list[FieldError] = field(default_factory=list)  # row = Excel row, field = the header as written
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (row, reason in Chinese)


def column_letter(index: int) -> str:
    """Excel's letter for a 0-based column index (0 → A, 26 → AA)."""
    letters, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _not_xlsx(detail_zh: str, detail: str) -> FileProblem:
    return FileProblem("xlsx_invalid", f"not a valid .xlsx workbook: {detail}; save the sheet as "
                       "Excel Workbook (.xlsx)", f"不是有效的 .xlsx 工作簿：{detail_zh}；请在 Excel 或 WPS 中"
                       "另存为“Excel 工作簿（*.xlsx）”", 1)


def _sheet_facts(data: bytes, path: str) -> tuple[list[str], bool]:
    """The sheet's merged ranges and whether it holds any formula, from its XML in the zip: read_only mode
    streams cells and forgets merges, and a sheet without formulas need not be read a second time."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if path not in z.namelist():
            return [], True
        with z.open(path) as f:
            xml = f.read()
    return [m.decode() for m in _MERGE.findall(xml)], b"<f>" in xml or b"<f " in xml


def _text(value: Any) -> str:
    """A cell's value as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def _period_of(value: date | datetime) -> str | None:
    """The month a date names, when it names one: the 1st at midnight (Excel stores a typed “2024-03” or
    “2024年3月” so). Any other date (the 15th, a quarter's last day) could mean a month, a quarter or a day."""
    if isinstance(value, datetime):
        if value.time() != time(0):
            return None
        value = value.date()
    return f"{value.year}-M{value.month:02d}" if value.day == 1 else None


def read_sheet(data: bytes, sheet: str | None, max_rows: int) -> SheetTable:
    """Read one worksheet (the first, or the one named) of an .xlsx file; raises FileProblem when the file or
    its header cannot be used. Formulas give their cached values; ``max_rows`` bounds the filled rows read."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _not_xlsx("文件不是 ZIP 格式（可能是 .xls、CSV 或已损坏）", "the file is not a ZIP archive (an .xls, a "
                        "CSV or a damaged file?)")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, zipfile errors… for a broken workbook
        raise _not_xlsx("无法打开工作簿", f"it cannot be opened ({type(exc).__name__})") from None
    try:
        names = book.sheetnames
        if sheet is None:
            index = 0
        elif sheet in names:
            index = names.index(sheet)
        else:
            raise FileProblem("unknown_sheet", f"no sheet {sheet!r}; the workbook has: {', '.join(names)}",
                              f"工作簿中没有名为“{sheet}”的工作表；现有：{'、'.join(names)}", 1)
        ws = book[names[index]]
        path = str(getattr(ws, "_worksheet_path", "")).lstrip("/")  # where openpyxl found the sheet in the zip
        table = _read(ws, names[index], max_rows)
    finally:
        book.close()
    merges, has_formulas = _sheet_facts(data, path)
    _refuse_merges(table, merges)
    if has_formulas:
        _formulas_without_values(data, index, table)
    return table


def _read(ws: Any, name: str, max_rows: int) -> SheetTable:
    rows: list[tuple[int, list[Any]]] = []
    for row in ws.iter_rows():
        # Cells come from column A on in read_only mode (gaps are EmptyCell), so index i is column i.
        line = next((c.row for c in row if getattr(c, "row", None)), None)
        values = [c.value for c in row]
        if line is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue  # empty rows (a formatted but empty tail, a gap) are not data
        if len(rows) > max_rows:
            raise FileProblem("too_many_rows", f"more than {max_rows} filled rows; split the sheet (at most "
                              "INGEST_MAX_BATCH_SIZE rows per upload)", f"超过{max_rows}行数据；请拆分工作表", line)
        rows.append((line, values))
    if not rows:
        raise FileProblem("empty_file", f"sheet {name!r} is empty: expected a header row and data rows",
                          f"工作表“{name}”为空：应有一行表头和若干数据行", 1)
    # The header is the first row naming two known columns (a title banner may stand above it), else row one.
    at = next((n for n, (_, values) in enumerate(rows[:HEADER_SEARCH_ROWS])
               if sum(1 for v in values if _norm(_text(v)) in _ALIASES) >= 2), 0)
    header_line, header_values = rows[at]
    header = [_text(v) for v in header_values]
    table = SheetTable(name, header_line, header, [])
    period_col = _column_of(header, "period")
    for line, values in rows[at + 1:]:
        texts: list[str] = []
        bad = False
        for i, v in enumerate(values):
            if isinstance(v, (date, datetime)) and i == period_col:
                code = _period_of(v)
                if code is None:
                    shown = v.date() if isinstance(v, datetime) and v.time() == time(0) else v
                    table.errors.append(FieldError(
                        line, header[i], "period_date_ambiguous",
                        f"the date {shown} does not say which period it is (a month, a quarter, a day?); write "
                        "the period as text (2024年3月, 2024年一季度)",
                        f"日期 {shown} 不能确定所指期别（月、季还是某一天）；请写成文本，"
                        "如“2024年3月”或“2024年一季度”"))
                    bad = True
                    continue
                texts.append(code)
            elif isinstance(v, datetime) and v.time() == time(0):
                texts.append(v.date().isoformat())
            else:
                texts.append(_text(v))
        if not bad:  # a refused cell's row is reported by that refusal, not again as an empty field
            table.records.append((line, texts))
    _skip_trailing_total(table)
    return table


def _column_of(header: list[str], field_name: str) -> int | None:
    aliases = HEADERS[field_name]
    return next((i for i, h in enumerate(header) if _norm(h) in aliases), None)


def _skip_trailing_total(table: SheetTable) -> None:
    while table.records:
        line, texts = table.records[-1]
        first = next((t for t in texts if t), "")
        if _norm(first) not in TOTAL_WORDS:
            return
        table.records.pop()
        table.skipped.append((line, f"第{line}行是“{first}”行（汇总，不是一条数据），已跳过"))


def _refuse_merges(table: SheetTable, ranges: list[str]) -> None:
    from openpyxl.utils import range_boundaries

    for ref in ranges:
        _, min_row, _, max_row = range_boundaries(ref)
        if max_row < table.header_line:  # a title banner above the header
            continue
        where = "表头" if min_row <= table.header_line else f"第{min_row}行"
        raise FileProblem("merged_cells", f"row {min_row}: cells {ref} are merged; unmerge them so each column "
                          "has its own header and each row its own values",
                          f"第{min_row}行：{where}单元格 {ref} 是合并单元格；请取消合并，使每列有自己的表头、"
                          "每行有自己的数值", min_row)


def _formulas_without_values(data: bytes, index: int, table: SheetTable) -> None:
    """Refuse a formula the workbook holds no computed value for (saved by a program that does not calculate):
    its cell reads as empty, and an empty 数值 must not be mistaken for a forgotten one."""
    empty = [(line, i) for line, texts in table.records for i, t in enumerate(texts) if not t]
    if not empty:
        return
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        ws = book.worksheets[index]
        wanted = set(empty)
        formulas: dict[tuple[int, int], str] = {}
        for row in ws.iter_rows(min_row=table.header_line + 1):
            for i, c in enumerate(row):
                if (getattr(c, "row", None), i) in wanted and isinstance(c.value, str) and c.value.startswith("="):
                    formulas[(c.row, i)] = c.value
    finally:
        book.close()
    for (line, i), formula in sorted(formulas.items()):
        table.errors.append(FieldError(
            line, table.header[i] if i < len(table.header) else column_letter(i), "formula_without_value",
            f"the formula {formula[:40]} has no computed value in the file; open it in Excel or WPS, let it "
            "calculate and save again (or paste the values)",
            f"公式 {formula[:40]} 在文件中没有计算结果；请在 Excel 或 WPS 中打开、重新计算并保存（或粘贴为数值）"))
    bad = {line for line, _ in formulas}
    table.records[:] = [(line, texts) for line, texts in table.records if line not in bad]


def write_template(template: Template) -> bytes:
    """The template as an .xlsx workbook: 数据 (header frozen, choice lists), 指标 and 填写说明."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    data = wb.active
    data.title = "数据"
    data.append(list(template.columns))
    if template.example:
        data.append(list(template.example))
    bold = Font(bold=True)
    for cell in data[1]:
        cell.font = bold
    data.freeze_panes = "A2"
    for col, width in zip("ABCDEFGHI", (22, 10, 16, 10, 12, 8, 12, 20, 30), strict=True):
        data.column_dimensions[col].width = width
    # 期别 as text: Excel would otherwise turn a typed “2024年6月” into a date.
    data.column_dimensions["C"].number_format = "@"
    if template.example:
        data["C2"].number_format = "@"

    ref = wb.create_sheet("指标")
    ref.append(["指标名称", "指标代码", "单位", "发布频率", "期别写法", "口径"])
    for cell in ref[1]:
        cell.font = bold
    for i in template.indicators:
        ref.append([i.name_zh, i.id, i.unit, i.frequency_zh, i.period_writing, "、".join(i.measures_zh)])
    ref.freeze_panes = "A2"
    for col, width in zip("ABCDEF", (24, 28, 8, 10, 48, 24), strict=True):
        ref.column_dimensions[col].width = width

    help_sheet = wb.create_sheet("填写说明")
    help_sheet.column_dimensions["A"].width = 110
    help_sheet.append(["填写说明"])
    help_sheet["A1"].font = Font(bold=True, size=14)
    for line in template.instructions:
        help_sheet.append([line])

    # Choice lists where the choices are few (an inline list holds at most 255 characters); the indicator
    # list points at the 指标 sheet, since a key may write dozens of indicators.
    rows = "2:1048576"
    lists = {"D": ",".join(template.measures), "G": ",".join(template.statuses)}
    if template.regions and len(",".join(template.regions)) < 250:
        lists["B"] = ",".join(template.regions)
    for col, choices in lists.items():
        dv = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=True,
                            errorTitle="不在可选范围内", error="请从下拉列表中选择")
        dv.add(f"{col}{rows.replace(':', f':{col}')}")
        data.add_data_validation(dv)
    if template.indicators:
        dv = DataValidation(type="list", formula1=f"=指标!$A$2:$A${len(template.indicators) + 1}",
                            allow_blank=True, showErrorMessage=False)  # a code typed in is accepted too
        dv.add("A2:A1048576")
        data.add_data_validation(dv)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
