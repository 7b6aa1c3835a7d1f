"""How a bureau's CSV export is read (services/ingest/domain/csvtext.py), as a table: encodings, delimiters,
line numbers of records (a quoted cell may span lines), and each file-level refusal whole, in both languages."""

from __future__ import annotations

import pytest

from services.ingest.domain.csvtext import CsvText, FileProblem, decode_text, delimiter_of, read_csv


@pytest.mark.parametrize(("data", "expected"), [
    ("指标,数值\ngdp,5.2\n".encode(), CsvText("utf-8", ",", ["指标", "数值"], [(2, ["gdp", "5.2"])])),
    (b"\xef\xbb\xbf" + "指标,数值\r\ngdp,5.2\r\n".encode(),  # Excel's "CSV UTF-8": a BOM, CRLF
     CsvText("utf-8", ",", ["指标", "数值"], [(2, ["gdp", "5.2"])])),
    ("指标,数值\ngdp,5.2\n".encode("gbk"), CsvText("gb18030", ",", ["指标", "数值"], [(2, ["gdp", "5.2"])])),
    ("指标\t数值\ngdp\t1,378,600\n".encode(),  # Excel's "Unicode text": tabs, commas inside numbers
     CsvText("utf-8", "\t", ["指标", "数值"], [(2, ["gdp", "1,378,600"])])),
    ('指标,备注\ngdp,"两行\n的备注"\ncpi,x\n'.encode(),  # a record's line is where it starts
     CsvText("utf-8", ",", ["指标", "备注"], [(2, ["gdp", "两行\n的备注"]), (4, ["cpi", "x"])])),
    ("指标,数值\n".encode(), CsvText("utf-8", ",", ["指标", "数值"], [])),  # a header alone: no records
], ids=["utf8", "utf8-bom-crlf", "gbk", "tabs", "multi-line-cell", "header-only"])
def test_a_file_is_read(data: bytes, expected: CsvText) -> None:
    assert read_csv(data) == expected


def _refusal(data: bytes) -> tuple[str, str, str, int | None]:
    with pytest.raises(FileProblem) as exc:
        read_csv(data)
    p = exc.value
    assert str(p) == p.message
    return p.rule, p.message, p.message_zh, p.line


def test_an_empty_file() -> None:
    assert _refusal(b"") == ("empty_file", "the file is empty: expected a header line and data rows",
                             "文件为空：应有一行表头和若干数据行", 1)
    assert _refusal(b"\xef\xbb\xbf")[0] == "empty_file"


def test_a_file_in_neither_encoding_names_the_line() -> None:
    assert _refusal(b"a,b\n1,2\n\x81\x30\x81\xff\n") == (
        "encoding",
        "the file is neither UTF-8 nor GB18030/GBK text (undecodable bytes on line 3); save it as CSV UTF-8",
        "文件既不是 UTF-8 也不是 GB18030/GBK 文本（第3行有无法识别的字节）；请另存为“CSV UTF-8”格式", 3)


def test_a_nul_character_names_the_line() -> None:
    assert _refusal(b"a,b\n1,2\n3,\x004\n") == (
        "nul_character", "line 3: the file contains a NUL character; it is not a CSV text export",
        "第3行含有 NUL 字符：这不是 CSV 文本文件", 3)


def test_broken_quoting_names_the_line_and_the_rule() -> None:
    rule, message, zh, line = _refusal(b'a,b\n1,2\n3,"4"x\n')
    assert (rule, line, zh) == ("csv_quoting", 3, "第3行 CSV 引号不配对；带引号的单元格内的引号须写成两个（\"\"）")
    assert message.startswith("line 3: broken CSV quoting (") and message.endswith(
        '); a quote inside a quoted cell must be doubled ("")')
    assert _refusal(b'"a"x,b\n1,2\n')[::3] == ("csv_quoting", 1)


@pytest.mark.parametrize(("text", "delimiter"), [
    ("a,b\n1\t2", ","), ("a\tb\n1,2", "\t"), ("a\tb,c\n", ","), ("a;b\n", ","), ("", ",")])
def test_the_delimiter_is_read_from_the_header_line(text: str, delimiter: str) -> None:
    assert delimiter_of(text) == delimiter


def test_decoding_strips_only_a_leading_bom() -> None:
    assert decode_text(b"\xef\xbb\xbfab") == ("ab", "utf-8")
    assert decode_text("a\ufeffb".encode()) == ("a\ufeffb", "utf-8")
