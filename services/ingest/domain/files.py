"""Files bureaus upload: CSV as a spreadsheet exports it (Chinese or English headers) and SDMX-CSV.

Pure: bytes in, submissions and every problem (line, column as written in the file, rule) out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Re-exported: the CSV reader lives in csvtext.py so the client needs only the standard library.
from services.ingest.domain.csvtext import CsvText as CsvText
from services.ingest.domain.csvtext import FileProblem as FileProblem
from services.ingest.domain.csvtext import decode_text as decode_text
from services.ingest.domain.csvtext import delimiter_of as delimiter_of
from services.ingest.domain.csvtext import read_csv as read_csv
from services.ingest.domain.observations import FieldError, Submission
from shared.catalogue import Catalogue
from shared.regions import REGIONS

# Column headers accepted for each field, compared after lower-casing and removing spaces.
HEADERS: dict[str, tuple[str, ...]] = {
    "indicator": ("指标", "指标代码", "指标编码", "指标名称", "indicator"),
    "region": ("地区", "地区代码", "区域", "地区名称", "region", "ref_area"),
    "period": ("期别", "时期", "统计期", "报告期", "统计时期", "period", "time_period"),
    "measure": ("口径", "指标口径", "measure"),
    "value": ("数值", "值", "数据", "value", "obs_value"),
    "unit": ("单位", "计量单位", "unit", "unit_measure"),
    "status": ("数据状态", "状态", "status", "obs_status"),
    "note": ("备注", "说明", "note", "comment", "obs_comment"),
    "source": ("来源", "数据来源", "source"),
    "revision_reason": ("修订原因", "修订说明", "revision_reason"),
    "growth_basis": ("增长口径", "增速口径", "growth_basis"),
    "unit_mult": ("unit_mult",),  # SDMX: the unit is UNIT_MEASURE × 10^UNIT_MULT
}
# SDMX-CSV bookkeeping columns: known, not needed.
SDMX_IGNORED = frozenset({"dataflow", "structure", "structure_id", "action", "freq"})
REQUIRED = ("indicator", "period", "measure", "value", "unit")
TEXT_FIELDS = ("indicator", "region", "period", "measure", "unit", "status", "note", "source", "revision_reason",
               "growth_basis")
MAX_LENGTHS = {"indicator": 64, "region": 32, "period": 16, "measure": 32, "unit": 16, "status": 16,
               "note": 2000, "source": 500, "revision_reason": 2000, "growth_basis": 16}
# 增长口径 as a bureau writes it in a sheet; anything else is passed on and refused by name.
BASES = {"实际": "real", "实际增长": "real", "可比价": "real", "real": "real",
         "名义": "nominal", "名义增长": "nominal", "现价": "nominal", "nominal": "nominal"}
# A cell a spreadsheet would run as a formula (OWASP's list); a number may start with + or -.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_ALIAS_TO_FIELD = {alias: f for f, aliases in HEADERS.items() for alias in aliases}

MEASURES_ZH: dict[str, str] = {
    "当期": "level", "本期": "level", "当月": "level", "当期值": "level", "期末": "level",
    "累计": "cumulative_level", "累计值": "cumulative_level", "本年累计": "cumulative_level",
    "同比": "yoy_pct", "同比增长": "yoy_pct", "当期增速": "yoy_pct", "当月增速": "yoy_pct", "增速": "yoy_pct",
    "累计增速": "cumulative_yoy_pct", "累计增长": "cumulative_yoy_pct", "累计同比": "cumulative_yoy_pct",
    "累计同比增长": "cumulative_yoy_pct",
}
STATUSES: dict[str, str] = {
    "provisional": "provisional", "estimated": "estimated", "final": "final",
    "初步": "provisional", "初步数": "provisional", "快报": "provisional", "快报数": "provisional",
    "预计": "estimated", "预计数": "estimated", "估计": "estimated", "估算": "estimated",
    "最终": "final", "最终核实数": "final", "核实数": "final", "正式": "final", "年报": "final",
    # SDMX OBS_STATUS codes
    "a": "final", "p": "provisional", "e": "estimated",
}
REGION_NAMES: dict[str, str] = {name: rid for rid, name in REGIONS.items()} | {
    "全市": "wuxi", "无锡": "wuxi", "江阴": "jiangyin", "宜兴": "yixing", "梁溪": "liangxi", "锡山": "xishan",
    "惠山": "huishan", "滨湖": "binhu", "新吴": "xinwu", "经开": "jingkai", "经济开发区": "jingkai",
    "无锡经济开发区": "jingkai",
}
# SDMX UNIT_MEASURE × UNIT_MULT → the unit as bureaus write it.
SDMX_UNITS: dict[tuple[str, int], str] = {
    ("CNY", 0): "元", ("CNY", 4): "万元", ("CNY", 8): "亿元", ("CNY", 12): "万亿元",
    ("USD", 0): "美元", ("USD", 4): "万美元", ("USD", 8): "亿美元",
    ("PS", 0): "人", ("PS", 4): "万人", ("PC", 0): "%", ("PT", 0): "%",
}
_QUARTERS_ZH = {"一季度": "Q1", "二季度": "Q2", "三季度": "Q3", "四季度": "Q4", "前三季度": "Q3",
                "上半年": "S1", "下半年": "S2"}
_YEAR = re.compile(r"^(\d{4})(?:年|年度|年全年|全年)?$")
_MONTH = re.compile(r"^(\d{4})年(?:1[-—–~至])?(\d{1,2})月(?:份)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})年?(一季度|二季度|三季度|四季度|前三季度|上半年|下半年)$")
_COMPACT = re.compile(r"^(\d{4})([QS]\d|M\d{2})$")


@dataclass(frozen=True)
class FileRow:
    """One data row of the file: its line number and what it submits."""

    line: int
    submission: Submission


@dataclass
class ParsedFile:
    """A file read: its format, its columns, its rows, and every problem found in them."""

    format: str  # "csv", "sdmx-csv" or "xlsx"
    encoding: str
    columns: dict[str, str]  # field -> the header as written in the file
    ignored_columns: list[str]
    positions: dict[str, int] = field(default_factory=dict)  # field -> its column, 0 for the first
    rows: list[FileRow] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)  # row = line number, field = header as written

    def header_of(self, field_name: str) -> str:
        """The file's header for a field (the field's own name when the file has no such column)."""
        return self.columns.get(field_name, field_name)


def norm_header(header: str) -> str:
    """A header as compared with HEADERS: lower case, without spaces or a BOM."""
    return _norm(header)


def _norm(header: str) -> str:
    return re.sub(r"\s+", "", header.strip().strip("\ufeff")).lower()


def normalise_period(raw: str) -> str:
    """A period as a bureau writes it (2024年1—3月, 2024年一季度, 2024-03, 2024Q1) as an SDMX code."""
    s = raw.strip().replace(" ", "")
    if m := _YEAR.match(s):
        return m[1]
    if m := _MONTH.match(s):
        return f"{m[1]}-M{int(m[2]):02d}"
    if m := _ISO_MONTH.match(s):
        return f"{m[1]}-M{m[2]}"
    if m := _QUARTER.match(s):
        return f"{m[1]}-{_QUARTERS_ZH[m[2]]}"
    if m := _COMPACT.match(s):
        return f"{m[1]}-{m[2]}"
    return s


def _number(raw: str) -> float | None:
    # NFKC turns full-width digits, signs and points (１２３．４, －) into ASCII, as a Chinese IME types them.
    s = unicodedata.normalize("NFKC", raw).strip().replace(",", "").replace("，", "").rstrip("%")
    try:
        return float(s)
    except ValueError:
        return None


def parse_file(data: bytes, catalogue: Catalogue, fmt: str = "auto") -> ParsedFile:
    """Read an uploaded CSV or SDMX-CSV file; raises FileProblem when it cannot be read at all."""
    csv_text = read_csv(data)
    return parse_table(csv_text.header, csv_text.records, catalogue, fmt, encoding=csv_text.encoding)


def parse_table(header: list[str], records: list[tuple[int, list[str]]], catalogue: Catalogue, fmt: str = "auto",
                *, encoding: str, header_line: int = 1, kind: str = "csv") -> ParsedFile:
    """Read a table (a CSV file's or a worksheet's header and rows, each with its line) into submissions and
    every problem; raises FileProblem when the header is unusable. ``kind`` is "csv" or "xlsx"."""
    columns: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    normed = [_norm(h) for h in header]
    is_sdmx = "obs_value" in normed and "time_period" in normed
    if fmt == "sdmx-csv" and not is_sdmx:
        raise FileProblem("sdmx_header", "an SDMX-CSV file needs the columns TIME_PERIOD and OBS_VALUE",
                          "SDMX-CSV 文件须有 TIME_PERIOD 和 OBS_VALUE 两列", header_line)
    for i, (h, n) in enumerate(zip(header, normed, strict=True)):
        f = _ALIAS_TO_FIELD.get(n)
        if f is None:
            if n not in SDMX_IGNORED and n:
                ignored.append(h.strip())
            continue
        if f in columns:
            raise FileProblem("duplicate_column", f"columns {written[f]!r} and {h.strip()!r} both give {f}",
                              f"“{written[f]}”和“{h.strip()}”两列表示同一字段（{f}）", header_line)
        columns[f] = i
        written[f] = h.strip().strip("\ufeff")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        names = "; ".join(f"{f} ({' / '.join(HEADERS[f][:3])})" for f in missing)
        headers_zh = "；".join(f"{HEADERS[f][0]}（{' / '.join(HEADERS[f][1:3])}）" for f in missing)
        raise FileProblem("missing_column", f"the header line lacks the column(s): {names}",
                          f"表头缺少以下列：{headers_zh}", header_line)

    parsed = ParsedFile("sdmx-csv" if is_sdmx else kind, encoding, written, ignored,
                        positions={f: i for f, i in columns.items()})
    names_zh = indicator_names(catalogue)
    for line, cells in records:
        if any(c.strip() for c in cells):
            _parse_row(parsed, line, cells, columns, names_zh, len(header))
    return parsed


def indicator_names(catalogue: Catalogue) -> dict[str, str]:
    """The Chinese names a clerk may write for an indicator: its own name (城镇新增就业人数), and the name of
    a target measured by it as the report words it (城镇新增就业), where that name means one indicator only."""
    names = {ind.name_zh: ind.id for ind in catalogue.indicators.values()}
    by_target: dict[str, set[str]] = {}
    for t in catalogue.targets.values():
        if t.indicator is not None:
            by_target.setdefault(t.name_zh, set()).add(t.indicator)
    for name, ids in by_target.items():
        if len(ids) == 1 and name not in names:
            names[name] = next(iter(ids))
    return names


def _parse_row(parsed: ParsedFile, line: int, cells: list[str], columns: dict[str, int],
               names_zh: dict[str, str], width: int) -> None:
    errors = parsed.errors

    def fail(field: str, rule: str, message: str, message_zh: str) -> None:
        errors.append(FieldError(line, field, rule, message, message_zh))

    if len(cells) > width:
        fail("(row)", "column_count", f"{len(cells)} cells but the header has {width} columns",
             f"本行有{len(cells)}个单元格，而表头只有{width}列")
        return

    def cell(f: str) -> str:
        i = columns.get(f)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    bad = False
    for f in TEXT_FIELDS:
        v = cell(f)
        if v.startswith(FORMULA_START):
            fail(parsed.header_of(f), "formula_injection",
                 f"{v[:20]!r} starts with {v[0]!r}, which a spreadsheet would run as a formula; remove the "
                 "leading character", f"“{v[:20]}”以“{v[0]}”开头，电子表格会把它当作公式执行；请删去开头的字符")
            bad = True
    raw_value = cell("value")
    if raw_value.startswith(("=", "@")):
        fail(parsed.header_of("value"), "formula_injection", f"{raw_value[:20]!r} is a formula, not a number",
             f"“{raw_value[:20]}”是公式，不是数值")
        bad = True
    for f, limit in MAX_LENGTHS.items():
        if len(cell(f)) > limit:
            fail(parsed.header_of(f), "too_long", f"longer than {limit} characters", f"超过{limit}个字符")
            bad = True
    for f in REQUIRED:
        if not cell(f):
            fail(parsed.header_of(f), "required", f"{parsed.header_of(f)} is empty", f"“{parsed.header_of(f)}”为空")
            bad = True
    if bad:
        return
    value = _number(raw_value)
    if value is None:
        fail(parsed.header_of("value"), "number", f"{raw_value!r} is not a number", f"“{raw_value}”不是数值")
        return
    indicator = cell("indicator")
    indicator = names_zh.get(indicator, indicator)
    region = cell("region") or "wuxi"
    region = REGION_NAMES.get(region, region)
    measure = MEASURES_ZH.get(cell("measure"), cell("measure"))
    raw_status = cell("status")
    status = STATUSES.get(raw_status.lower()) if raw_status else "provisional"
    if status is None:
        fail(parsed.header_of("status"), "status", f"{raw_status!r} is not a status: 初步数/预计数/最终核实数, "
             "provisional/estimated/final or SDMX P/E/A",
             f"“{raw_status}”不是数据状态：应为初步数、预计数或最终核实数（或 SDMX 的 P、E、A）")
        return
    unit = cell("unit")
    if "unit_mult" in columns:
        mult = cell("unit_mult") or "0"
        mapped = SDMX_UNITS.get((unit.upper(), int(mult))) if mult.lstrip("-").isdigit() else None
        if mapped is None:
            fail(parsed.header_of("unit_mult"), "unit_mult",
                 f"UNIT_MEASURE {unit!r} with UNIT_MULT {mult!r} is not a unit ingest knows",
                 f"UNIT_MEASURE“{unit}”与 UNIT_MULT“{mult}”组合不是可识别的单位")
            return
        unit = mapped
    elif (unit.upper(), 0) in SDMX_UNITS:
        unit = SDMX_UNITS[(unit.upper(), 0)]
    parsed.rows.append(FileRow(line, Submission(
        indicator=indicator, region=region, period=normalise_period(cell("period")), measure=measure,
        value=value, unit=unit, status=status, note=cell("note") or None, source=cell("source") or None,
        revision_reason=cell("revision_reason") or None,
        growth_basis=BASES.get(cell("growth_basis").lower(), cell("growth_basis")) if cell("growth_basis") else None,
    )))
