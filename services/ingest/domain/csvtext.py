"""CSV files as bureaus export them: decoded (UTF-8 or GB18030) and split into header and records by line.

Standard library only: the bureaus' command-line client (services/ingest/client.py) reads files with it and
installs with httpx alone, so nothing here may import pydantic, the catalogue or the server's packages.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, quoting, header); says the line and the rule."""

    def __init__(self, rule: str, message: str, message_zh: str, line: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.message_zh = message_zh
        self.line = line


@dataclass(frozen=True)
class CsvText:
    """A CSV file split into its header and records, each with the file line it starts on."""

    encoding: str
    delimiter: str
    header: list[str]
    records: list[tuple[int, list[str]]]


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
                          f"(undecodable bytes on line {line}); save it as CSV UTF-8",
                          f"文件既不是 UTF-8 也不是 GB18030/GBK 文本（第{line}行有无法识别的字节）；"
                          "请另存为“CSV UTF-8”格式", line) from None


def read_csv(data: bytes) -> CsvText:
    """Decode a CSV file and split it into its header and records; raises FileProblem naming the line.

    The one reader of both the server (parse_file) and the bureaus' client (which splits files into chunks).
    """
    text, encoding = decode_text(data)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FileProblem("nul_character", f"line {line}: the file contains a NUL character; it is not a CSV text "
                          "export", f"第{line}行含有 NUL 字符：这不是 CSV 文本文件", line)
    delimiter = delimiter_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise FileProblem("empty_file", "the file is empty: expected a header line and data rows",
                          "文件为空：应有一行表头和若干数据行", 1) from None
    except csv.Error as exc:
        raise FileProblem("csv_quoting", f"line 1: broken CSV quoting ({exc})", "第1行 CSV 引号不配对", 1) from None
    records: list[tuple[int, list[str]]] = []
    line = reader.line_num
    try:
        for cells in reader:
            records.append((line + 1, cells))
            line = reader.line_num
    except csv.Error as exc:
        raise FileProblem("csv_quoting", f"line {line + 1}: broken CSV quoting ({exc}); a quote inside a "
                          "quoted cell must be doubled (\"\")",
                          f"第{line + 1}行 CSV 引号不配对；带引号的单元格内的引号须写成两个（\"\"）",
                          line + 1) from None
    return CsvText(encoding, delimiter, header, records)


def delimiter_of(text: str) -> str:
    """Comma, or tab for Excel's "Unicode text" export (a header line with tabs and no comma)."""
    first = text.split("\n", 1)[0]
    return "\t" if "\t" in first and "," not in first else ","
