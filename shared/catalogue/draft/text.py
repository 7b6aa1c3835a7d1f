"""Reading a report file: plain UTF-8 text or a clear refusal; one normal form for the grammar to read.

The normal form has the same length as the original, character for character, so every offset found in it
is an offset into the original text, and every drafted ``phrase`` is a verbatim slice of what the user gave.
"""

from __future__ import annotations

from pathlib import Path


class ReportNotTextError(ValueError):
    """The report file is not plain UTF-8 text; the message names the rule in Chinese and English."""


# Magic numbers of the formats a report usually arrives in before someone saves it as text:
# (magic, what it is in Chinese, in English, how to convert it).
_SAVE_AS_TEXT = ("在 Word 中另存为“纯文本（UTF-8）”", "save it from Word as Plain Text (UTF-8)")
_MAGIC = (
    (b"%PDF", "PDF 文件", "a PDF file", ("pdftotext -layout report.pdf report.txt",) * 2),
    (b"PK\x03\x04", "Word（.docx）或 zip 文件", "a Word (.docx) or zip file", _SAVE_AS_TEXT),
    (b"\xd0\xcf\x11\xe0", "旧版 Word（.doc）文件", "an old Word (.doc) file", _SAVE_AS_TEXT),
)
# Control characters a text file may contain: tab, line feed, carriage return, form feed.
_ALLOWED_CONTROLS = frozenset("\t\n\r\f")


def decode_report(data: bytes) -> str:
    """The report's text, or ReportNotTextError naming the rule it breaks (UTF-8, no control characters)."""
    for magic, what_zh, what_en, (fix_zh, fix_en) in _MAGIC:
        if data.startswith(magic):
            raise ReportNotTextError(
                f"报告文件不是纯文本：这是{what_zh}；请先转换为 UTF-8 纯文本（{fix_zh}）。 / The report file is not "
                f"plain text: it is {what_en}; convert it to UTF-8 plain text first ({fix_en})."
            )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReportNotTextError(
            "报告文件是 UTF-16 编码，规则要求 UTF-8：请另存为 UTF-8。 / The report file is UTF-16; the rule is "
            "UTF-8: save it as UTF-8."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReportNotTextError(
            f"报告文件不是 UTF-8 文本：第 {exc.start} 字节无法按 UTF-8 解码（GBK/GB18030 文件请先转换："
            f"iconv -f GB18030 -t UTF-8）。 / The report file is not UTF-8 text: byte {exc.start} cannot be "
            f"decoded as UTF-8 (convert a GBK/GB18030 file first: iconv -f GB18030 -t UTF-8)."
        ) from None
    for i, ch in enumerate(text):
        if (ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) and ch not in _ALLOWED_CONTROLS:
            raise ReportNotTextError(
                f"报告文件不是纯文本：第 {i + 1} 个字符是控制字符 U+{ord(ch):04X}。 / The report file is not plain "
                f"text: character {i + 1} is the control character U+{ord(ch):04X}."
            )
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        raise ReportNotTextError(
            "报告文件不含汉字，不是一份工作报告的文本。 / The report file contains no Chinese characters: it is "
            "not the text of a work report."
        )
    return text


def read_report(path: Path) -> str:
    """Read and decode a report file (see ``decode_report`` for the rules)."""
    return decode_report(path.read_bytes())


# Full-width digits and signs to ASCII; ASCII clause punctuation to the full-width marks the grammar splits on.
_FULL_WIDTH = {chr(0xFF10 + d): str(d) for d in range(10)} | {
    "％": "%", "．": ".", "＋": "+", "－": "-", "～": "~", "﹪": "%", "\u3000": " ",
}
_ASCII_PUNCT = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "!": "！", "?": "？", ".": "。"}


def normalise(text: str) -> str:
    """The text in one form, same length: ASCII digits and %, full-width clause punctuation.

    An ASCII comma, colon or full stop between two digits stays (1,200万人; 8:30; 5.5%), so a thousands
    separator or a decimal point is not read as a clause break; a full-width period becomes a decimal point.
    """
    out = [_FULL_WIDTH.get(ch, ch) for ch in text]
    for i, ch in enumerate(out):
        if ch in _ASCII_PUNCT:
            between_digits = 0 < i < len(out) - 1 and out[i - 1].isdigit() and out[i + 1].isdigit()
            if not (between_digits and ch in ",:."):
                out[i] = _ASCII_PUNCT[ch]
    assert len(out) == len(text)  # offsets into the normal form are offsets into the original
    return "".join(out)
