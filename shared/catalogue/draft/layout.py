"""Where the year's commitments are in a report: the 主要预期目标 paragraph and the numbered sections after it.

Part 一 of a work report reviews last year; its figures are baselines, never targets, so nothing before the
targets paragraph is drafted. The part ends at the heading on the government's own conduct (政府自身建设),
which sets no checkable targets, or at the end of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# "今年…的主要预期目标是：" / "主要预期目标为：" / "主要目标："; part 一 also says "主要预期目标全面完成" (no colon).
_TARGETS_INTRO = re.compile(r"主要(?:预期)?目标(?:是|为)?：")
_TOP_HEADING = re.compile(r"^[ \t]*[一二三四五六七八九十]+、", re.M)
_SECTION_HEADING = re.compile(r"^[ \t]*（([一二三四五六七八九十]+)）", re.M)
_YEAR_HEADING = re.compile(r"(20\d\d)年(?:主要工作|政府工作任务|工作安排|重点工作|工作任务|经济社会发展)")
_YEAR = re.compile(r"(20\d\d)年")


@dataclass(frozen=True)
class Block:
    """A stretch of the year's part that is read for commitments, with the catalogue section it belongs to."""

    section: str  # "headline" or "1".."9" (a tenth section gives "10", which the catalogue does not allow)
    start: int
    end: int
    headline: bool  # inside the 主要预期目标 paragraph itself
    numbered: bool  # inside a numbered section （一）…; False for text between the targets and （一）


@dataclass(frozen=True)
class Layout:
    """The blocks of the year's part, and what a person should know about how they were found."""

    blocks: tuple[Block, ...]
    warnings: tuple[str, ...]


def cn_number(numeral: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20 (section numbers)."""
    if numeral == "十":
        return 10
    if "十" in numeral:
        tens, _, units = numeral.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return _CN_DIGITS[numeral]


def report_year(norm: str) -> int | None:
    """The year the report plans for: from a heading such as 二、2024年主要工作, else the latest year named."""
    m = _YEAR_HEADING.search(norm)
    if m:
        return int(m.group(1))
    years = [int(y) for y in _YEAR.findall(norm)]
    return max(years) if years else None


def _line_end(norm: str, pos: int) -> int:
    end = norm.find("\n", pos)
    return len(norm) if end < 0 else end


def _paragraphs(norm: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    pos = start
    while pos < end:
        stop = min(_line_end(norm, pos), end)
        if norm[pos:stop].strip():
            out.append((pos, stop))
        pos = stop + 1
    return out


def _listed_targets_end(norm: str, pos: int) -> int:
    """Where targets listed one per line after a bare "主要预期目标：" line end: at the line that closes with
    。, before a blank line or a heading."""
    end = pos
    for p_start, p_end in _paragraphs(norm, pos, len(norm)):
        if p_start > end + 1 and end > pos:  # a blank line after the list
            break
        if _SECTION_HEADING.match(norm, p_start) or _TOP_HEADING.match(norm, p_start):
            break
        end = p_end
        if norm[p_start:p_end].rstrip().endswith("。"):
            break
    return end


def find_layout(norm: str) -> Layout:
    """The blocks to read: the targets paragraph (after its colon) and every paragraph up to the part's end."""
    warnings: list[str] = []
    intro = _TARGETS_INTRO.search(norm)
    if intro is None:
        warnings.append(
            "没有找到“主要预期目标：”段落，已读全文：请确认没有把上年回顾中的数字当作目标。 / No 主要预期目标 "
            "paragraph found; the whole text was read: check that no figure of last year's review was drafted."
        )
        body_start = 0
        headline_end = 0
    else:
        body_start = intro.end()
        headline_end = _line_end(norm, body_start)
        if not norm[body_start:headline_end].strip():
            headline_end = _listed_targets_end(norm, headline_end)
    part_end = len(norm)
    for m in _TOP_HEADING.finditer(norm, headline_end):
        if "自身建设" in norm[m.start():_line_end(norm, m.start())]:
            part_end = m.start()
            break
    blocks: list[Block] = []
    if intro is not None:
        blocks.append(Block("headline", body_start, headline_end, headline=True, numbered=False))
    section = "headline"
    numbered = False
    for p_start, p_end in _paragraphs(norm, headline_end if intro else 0, part_end):
        heading = _SECTION_HEADING.match(norm, p_start)
        if heading:
            section = str(cn_number(heading.group(1)))
            numbered = True
            # The heading's own sentence is a slogan (聚力稳定经济运行，坚决当好重要压舱石。), not a commitment.
            stop = norm.find("。", heading.end(), p_end)
            p_start = p_end if stop < 0 else stop + 1
        elif _TOP_HEADING.match(norm, p_start):
            continue  # a part heading such as 三、2024年政府工作任务
        if p_start < p_end:
            blocks.append(Block(section, p_start, p_end, headline=False, numbered=numbered))
    if any(b.section not in {"headline", *map(str, range(1, 10))} for b in blocks):
        warnings.append(
            "报告有十个以上的部分，目录格式只允许 headline 和 1–9：第十部分起的条目需要人工归入。 / The report has "
            "more than nine sections; the catalogue allows headline and 1–9: items from section 10 on need a section."
        )
    return Layout(tuple(blocks), tuple(warnings))
