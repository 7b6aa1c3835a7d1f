"""Files bureaus upload: CSV as a spreadsheet exports it (Chinese or English headers) and SDMX-CSV.

Pure: bytes in, submissions and every problem (line, column as written in the file, rule) out.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from services.ingest.domain.observations import REGIONS, FieldError, Submission
from shared.catalogue import Catalogue

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
    "unit_mult": ("unit_mult",),  # SDMX: the unit is UNIT_MEASURE × 10^UNIT_MULT
}
# SDMX-CSV bookkeeping columns: known, not needed.
SDMX_IGNORED = frozenset({"dataflow", "structure", "structure_id", "action", "freq"})
REQUIRED = ("indicator", "period", "measure", "value", "unit")
TEXT_FIELDS = ("indicator", "region", "period", "measure", "unit", "status", "note", "source", "revision_reason")
MAX_LENGTHS = {"indicator": 64, "region": 32, "period": 16, "measure": 32, "unit": 16, "status": 16,
               "note": 2000, "source": 500, "revision_reason": 2000}
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
                "上半年": "S1", "下半年": "S2", "1-2季度": "S1"}
_YEAR = re.compile(r"^(\d{4})(?:年|年度|年全年|全年)?$")
_MONTH = re.compile(r"^(\d{4})年(?:1[-—–~至])?(\d{1,2})月(?:份)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})年?(一季度|二季度|三季度|四季度|前三季度|上半年|下半年)$")
_COMPACT = re.compile(r"^(\d{4})([QS]\d|M\d{2})$")


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, quoting, header); says the line and the rule."""

    def __init__(self, rule: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line


@dataclass(frozen=True)
class FileRow:
    """One data row of the file: its line number and what it submits."""

    line: int
    submission: Submission


@dataclass
class ParsedFile:
    """A file read: its format, its columns, its rows, and every problem found in them."""

    format: str  # "csv" or "sdmx-csv"
    encoding: str
    columns: dict[str, str]  # field -> the header as written in the file
    ignored_columns: list[str]
    rows: list[FileRow] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)  # row = line number, field = header as written

    def header_of(self, field_name: str) -> str:
        """The file's header for a field (the field's own name when the file has no such column)."""
        return self.columns.get(field_name, field_name)


def decode_text(data: bytes) -> tuple[str, str]:
    """The file's text and encoding: UTF-8 (with or without BOM), else GB18030 (which covers GBK and GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileProblem("encoding", "the file is neither UTF-8 nor GB18030/GBK text "
                          f"(undecodable bytes on line {line}); save it as CSV UTF-8", line) from None


def delimiter_of(text: str) -> str:
    """Comma, or tab for Excel's "Unicode text" export (a header line with tabs and no comma)."""
    first = text.split("\n", 1)[0]
    return "\t" if "\t" in first and "," not in first else ","


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
    s = raw.strip().replace(",", "").replace("，", "").rstrip("%")
    try:
        return float(s)
    except ValueError:
        return None


def parse_file(data: bytes, catalogue: Catalogue, fmt: str = "auto") -> ParsedFile:
    """Read an uploaded CSV or SDMX-CSV file; raises FileProblem when it cannot be read at all."""
    text, encoding = decode_text(data)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FileProblem("nul_character", f"line {line}: the file contains a NUL character; it is not a CSV text "
                          "export", line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("empty_file", "the file is empty: expected a header line and data rows", 1) from None
    except csv.Error as exc:
        raise FileProblem("csv_quoting", f"line 1: broken CSV quoting ({exc})", 1) from None
    columns: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    normed = [_norm(h) for h in header]
    is_sdmx = "obs_value" in normed and "time_period" in normed
    if fmt == "sdmx-csv" and not is_sdmx:
        raise FileProblem("sdmx_header", "an SDMX-CSV file needs the columns TIME_PERIOD and OBS_VALUE", 1)
    for i, (h, n) in enumerate(zip(header, normed, strict=True)):
        f = _ALIAS_TO_FIELD.get(n)
        if f is None:
            if n not in SDMX_IGNORED and n:
                ignored.append(h.strip())
            continue
        if f in columns:
            raise FileProblem("duplicate_column", f"columns {written[f]!r} and {h.strip()!r} both give {f}", 1)
        columns[f] = i
        written[f] = h.strip().strip("\ufeff")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        names = "; ".join(f"{f} ({' / '.join(HEADERS[f][:3])})" for f in missing)
        raise FileProblem("missing_column", f"the header line lacks the column(s): {names}", 1)

    parsed = ParsedFile("sdmx-csv" if is_sdmx else "csv", encoding, written, ignored)
    names_zh = {ind.name_zh: ind.id for ind in catalogue.indicators.values()}
    line = 1
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            _parse_row(parsed, start, cells, columns, names_zh, len(header))
    except csv.Error as exc:
        raise FileProblem("csv_quoting", f"line {line + 1}: broken CSV quoting ({exc}); a quote inside a "
                          "quoted cell must be doubled (\"\")", line + 1) from None
    return parsed


def _parse_row(parsed: ParsedFile, line: int, cells: list[str], columns: dict[str, int],
               names_zh: dict[str, str], width: int) -> None:
    errors = parsed.errors
    if len(cells) > width:
        errors.append(FieldError(line, "(row)", "column_count",
                                 f"{len(cells)} cells but the header has {width} columns"))
        return

    def cell(f: str) -> str:
        i = columns.get(f)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    bad = False
    for f in TEXT_FIELDS:
        v = cell(f)
        if v.startswith(FORMULA_START):
            errors.append(FieldError(line, parsed.header_of(f), "formula_injection",
                                     f"{v[:20]!r} starts with {v[0]!r}, which a spreadsheet would run as a "
                                     "formula; remove the leading character"))
            bad = True
    raw_value = cell("value")
    if raw_value.startswith(("=", "@")):
        errors.append(FieldError(line, parsed.header_of("value"), "formula_injection",
                                 f"{raw_value[:20]!r} is a formula, not a number"))
        bad = True
    for f, limit in MAX_LENGTHS.items():
        if len(cell(f)) > limit:
            errors.append(FieldError(line, parsed.header_of(f), "too_long", f"longer than {limit} characters"))
            bad = True
    for f in REQUIRED:
        if not cell(f):
            errors.append(FieldError(line, parsed.header_of(f), "required", f"{parsed.header_of(f)} is empty"))
            bad = True
    if bad:
        return
    value = _number(raw_value)
    if value is None:
        errors.append(FieldError(line, parsed.header_of("value"), "number", f"{raw_value!r} is not a number"))
        return
    indicator = cell("indicator")
    indicator = names_zh.get(indicator, indicator)
    region = cell("region") or "wuxi"
    region = REGION_NAMES.get(region, region)
    measure = MEASURES_ZH.get(cell("measure"), cell("measure"))
    raw_status = cell("status")
    status = STATUSES.get(raw_status.lower()) if raw_status else "provisional"
    if status is None:
        errors.append(FieldError(line, parsed.header_of("status"), "status",
                                 f"{raw_status!r} is not a status: 初步数/预计数/最终核实数, provisional/estimated/"
                                 "final or SDMX P/E/A"))
        return
    unit = cell("unit")
    if "unit_mult" in columns:
        mult = cell("unit_mult") or "0"
        mapped = SDMX_UNITS.get((unit.upper(), int(mult))) if mult.lstrip("-").isdigit() else None
        if mapped is None:
            errors.append(FieldError(line, parsed.header_of("unit_mult"), "unit_mult",
                                     f"UNIT_MEASURE {unit!r} with UNIT_MULT {mult!r} is not a unit ingest knows"))
            return
        unit = mapped
    elif (unit.upper(), 0) in SDMX_UNITS:
        unit = SDMX_UNITS[(unit.upper(), 0)]
    parsed.rows.append(FileRow(line, Submission(
        indicator=indicator, region=region, period=normalise_period(cell("period")), measure=measure,
        value=value, unit=unit, status=status, note=cell("note") or None, source=cell("source") or None,
        revision_reason=cell("revision_reason") or None,
    )))
