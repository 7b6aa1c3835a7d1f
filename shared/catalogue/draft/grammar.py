"""The grammar of a target phrase: clauses, the numbers in them with their units and qualifiers, and labels.

Everything here reads the normal form (``text.normalise``) and returns offsets, so the phrase a person reviews
is always the original text. A number is drafted only when it is written in the text: 千/百 count as numbers
only in 超千亿元/超百亿元, where they are the numeral itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Base units, longest first so that 人次 wins over 人 and 个百分点 over 个.
_BASE_UNITS = sorted(
    (
        "个百分点", "百分点", "平方公里", "平方米", "立方米", "千瓦时", "万千瓦", "千瓦", "兆瓦", "标准箱", "标箱",
        "人次", "公里", "公顷", "公斤", "美元", "元", "人", "户", "家", "个", "场", "项", "所", "条", "座", "部", "块",
        "吨", "亩", "斤", "套", "辆", "台", "件", "名", "处", "批", "张", "间", "艘", "架", "种", "站", "次", "列",
        "栋", "幢", "天", "倍", "微克/立方米", "%",
    ),
    key=len,
    reverse=True,
)
_UNIT = re.compile(r"(?P<mag>万亿|亿|万)?(?P<base>" + "|".join(map(re.escape, _BASE_UNITS)) + ")?")
_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
# 超千亿元, 超百亿元: the round numeral after a comparator, before a money unit.
_ROUND = re.compile(r"(?<=[超过破达近逾])([百千])(?=(?:万亿|亿|万)?(?:美元|元))")
# 比上年增加1800亿元: a difference from last year that describes a budget, not a target of its own.
_CHANGE_ON_LAST_YEAR = re.compile(r"(?:比|较)(?:上年|去年|上一年|20\d\d年)\S{0,8}(?:增加|增长|减少|下降|提高|降低|多)$")
_RANGE_JOIN = re.compile(r"\s*[-—–~至到]\s*")
MONEY_BASES = frozenset({"元", "美元"})
COUNT_BASES = frozenset(
    ("人", "户", "家", "个", "场", "项", "所", "条", "座", "部", "块", "套", "辆", "台", "件", "名", "处", "批", "张",
     "间", "艘", "架", "种", "站", "次", "列", "栋", "幢")
)
# A count unit followed by one of these names a policy (落实促进民间投资12条措施), not a target.
_POLICY_NOUNS = ("措施", "举措", "意见", "政策", "条例")
_DISTANCE_BASES = frozenset({"公里", "米"})
# Words right before a number and right after its unit that set the comparator.
PREFIX_WORDS = {
    "控制在": "at_most", "不超过": "at_most", "不高于": "at_most", "低于": "at_most",
    "不少于": "at_least", "不低于": "at_least", "至少": "at_least", "突破": "at_least", "超过": "at_least",
    "超": "at_least", "达到": "at_least", "达": "at_least", "提高到": "at_least", "提高至": "at_least",
    "提升到": "at_least", "提升至": "at_least", "增至": "at_least", "增加到": "at_least", "扩大到": "at_least",
    "逾": "at_least",
}
SUFFIX_WORDS = {
    "左右": "about", "及以上": "at_least", "以上": "at_least", "多": "at_least", "余": "at_least",
    "以内": "at_most", "之内": "at_most", "以下": "at_most",
}
_PREFIXES = sorted(PREFIX_WORDS, key=len, reverse=True)
_SUFFIXES = sorted(SUFFIX_WORDS, key=len, reverse=True)
_OPEN_QUOTES = {"“": "”", "‘": "’", "「": "」", "《": "》", "\"": "\""}
_SENTENCE_ENDS = "。；！？\n"  # a line break ends a sentence: targets listed one per line need no mark
_CLAUSE_ENDS = "，：" + _SENTENCE_ENDS


@dataclass(frozen=True)
class Token:
    """A number with its unit as written, and the qualifiers around it."""

    start: int  # the number's first character
    end: int  # after the unit and any suffix word
    value: float
    unit: str  # as written: %, 万人, 亿元, 万亿斤 …
    base: str  # the unit without 万/亿 (%, 人, 元 …)
    prefix_word: str  # 超, 达到, 控制在 … or ""
    suffix_word: str  # 左右, 以上, 以内 … or ""
    value_max: float | None = None  # the upper end of a range (5%—6%)


@dataclass(frozen=True)
class Skip:
    """A number read and not drafted, with the reason (it is listed at the end of the draft)."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Clause:
    """Text between two clause marks (，；。：), and the sentence it belongs to."""

    start: int
    end: int
    sentence_start: int


def quote_mask(norm: str, start: int, end: int) -> list[bool]:
    """For each character of norm[start:end], whether it is inside quotes or a title (“…”, 《…》)."""
    mask = [False] * (end - start)
    closer: str | None = None
    for i in range(start, end):
        ch = norm[i]
        if closer is not None:
            mask[i - start] = True
            if ch == closer:
                closer = None
        elif ch in _OPEN_QUOTES:
            closer = _OPEN_QUOTES[ch]
            mask[i - start] = True
    return mask


def clauses(norm: str, start: int, end: int) -> list[Clause]:
    """The clauses of a block; marks inside quotes or brackets do not split."""
    mask = quote_mask(norm, start, end)
    out: list[Clause] = []
    depth = 0
    c_start = s_start = start
    for i in range(start, end + 1):
        ch = norm[i] if i < end else "。"
        if i < end and ch in "（(":
            depth += 1
        elif i < end and ch in "）)":
            depth = max(0, depth - 1)
        if (i == end or (not mask[i - start] and depth == 0)) and ch in _CLAUSE_ENDS:
            if norm[c_start:i].strip():
                out.append(Clause(c_start, i, s_start))
            c_start = i + 1
            if ch in _SENTENCE_ENDS:
                s_start = i + 1
    return out


def split_parts(norm: str, clause: Clause) -> list[tuple[int, int]]:
    """The raw parts of a clause between 、 marks (outside quotes)."""
    mask = quote_mask(norm, clause.start, clause.end)
    bounds = [clause.start]
    for i in range(clause.start, clause.end):
        if norm[i] == "、" and not mask[i - clause.start]:
            bounds.append(i + 1)
    bounds.append(clause.end + 1)
    return [(bounds[k], bounds[k + 1] - 1) for k in range(len(bounds) - 1)]


def merge_parts(norm: str, raw: list[tuple[int, int]], tokens: list[Token]) -> list[tuple[int, int]]:
    """Group raw parts into phrases: one per stretch with its own subject or verb.

    A part that starts with a number (109个、424万平方米老旧小区; 分别达920万人次、14.5万吨) continues the one
    before it; a part with no number (开行、优化…30条; 对868家铸造、水泥等…企业) joins the next one, or the
    previous one at the end of the clause.
    """
    def starts_with_number(s: int) -> bool:
        return bool(norm[s:s + 1].isdigit())

    def holds_token(s: int, e: int) -> bool:
        return any(s <= t.start < e for t in tokens)

    groups: list[list[int]] = []  # [start, end] per group
    pending: int | None = None  # start of number-less parts waiting for the next part
    for s, e in raw:
        if groups and starts_with_number(s) and pending is None:
            groups[-1][1] = e
            continue
        if not holds_token(s, e):
            pending = s if pending is None else pending
            continue
        groups.append([pending if pending is not None else s, e])
        pending = None
    if pending is not None:
        if groups:
            groups[-1][1] = raw[-1][1]
        else:
            groups.append([pending, raw[-1][1]])
    return [(g[0], g[1]) for g in groups]


def _value(text: str) -> float:
    return {"百": 100.0, "千": 1000.0}.get(text) or float(text.replace(",", ""))


def _prefix_word(norm: str, pos: int) -> str:
    before = norm[max(0, pos - 4):pos].rstrip()
    return next((w for w in _PREFIXES if before.endswith(w)), "")


def _suffix_word(norm: str, pos: int) -> str:
    return next((w for w in _SUFFIXES if norm.startswith(w, pos)), "")


def find_tokens(norm: str, clause: Clause) -> tuple[list[Token], list[Skip]]:
    """The numbers of a clause that can be targets, and those skipped as labels, with the reason."""
    mask = quote_mask(norm, clause.start, clause.end)
    candidates = [(m.start(), m.end()) for m in _NUMBER.finditer(norm, clause.start, clause.end)]
    candidates += [(m.start(), m.end()) for m in _ROUND.finditer(norm, clause.start, clause.end)]
    candidates.sort()
    tokens: list[Token] = []
    skips: list[Skip] = []
    consumed = -1
    for n_start, n_end in candidates:
        if n_start < consumed:
            continue  # the upper end of a range already read
        label = _label(norm, clause, mask, n_start, n_end)
        if label:
            skips.append(Skip(n_start, n_end, label))
            continue
        # 100多家, 1900余个: the approximation sits between the number and the unit.
        approx = norm[n_end] if n_end < clause.end and norm[n_end] in "多余" else ""
        unit_m = _UNIT.match(norm, n_end + len(approx), clause.end)
        assert unit_m is not None  # every group is optional
        value_max: float | None = None
        if not unit_m.group(0):
            rng = _RANGE_JOIN.match(norm, n_end, clause.end)
            second = _NUMBER.match(norm, rng.end(), clause.end) if rng else None
            upper_unit = _UNIT.match(norm, second.end(), clause.end) if second else None
            if second and upper_unit and upper_unit.group(0):
                value_max = _value(second.group(0))
                unit_m = upper_unit
            else:
                skips.append(Skip(n_start, n_end, "no unit (a label, code or year)"))
                continue
        elif (rng := _RANGE_JOIN.match(norm, unit_m.end(), clause.end)) and (
            second := _NUMBER.match(norm, rng.end(), clause.end)
        ):
            upper_unit = _UNIT.match(norm, second.end(), clause.end)
            if upper_unit and upper_unit.group(0) == unit_m.group(0):
                value_max = _value(second.group(0))
                unit_m = upper_unit
        unit = unit_m.group(0)
        base = unit_m.group("base") or unit
        after = unit_m.end()
        if base in COUNT_BASES and norm.startswith(_POLICY_NOUNS, after):
            skips.append(Skip(n_start, after, "a policy's name (N条措施), not a target"))
            continue
        if base in _DISTANCE_BASES and "圈" in norm[after:clause.end]:
            skips.append(Skip(n_start, after, "the size of a service circle (3公里…服务圈), not a target"))
            continue
        suffix = approx or _suffix_word(norm, after)
        end = after + (0 if approx else len(suffix))
        if suffix == "以下" and end < clause.end and not norm[end].isspace():
            skips.append(Skip(n_start, end, "a scope (X以下的…), not a target"))
            continue
        consumed = end
        tokens.append(Token(n_start, end, _value(norm[n_start:n_end]), unit, base, _prefix_word(norm, n_start),
                            suffix, value_max))
    return _drop_qualifiers(norm, tokens, skips), skips


def _label(norm: str, clause: Clause, mask: list[bool], start: int, end: int) -> str:
    if mask[start - clause.start]:
        return "inside quotes or a title (a name such as “465”, “3610行动”)"
    before = norm[start - 1] if start > 0 else ""
    after = norm[end] if end < len(norm) else ""
    if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
        return "part of a code (5G, PM2.5, S1线)"
    if "+" in (before, after):
        return "part of a name such as 1+3"
    if before == "第":
        return "an ordinal (第3家)"
    if _CHANGE_ON_LAST_YEAR.search(norm[clause.start:start]):
        return "a change on last year (比上年增加…), not a target"
    return ""


def _drop_qualifiers(norm: str, tokens: list[Token], skips: list[Skip]) -> list[Token]:
    """Drop an amount that sizes the thing counted after it: 超10亿元项目80个, 其中超50亿元15个."""
    kept: list[Token] = []
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if t.base in MONEY_BASES and nxt is not None and nxt.base not in MONEY_BASES and nxt.base != "%":
            between = norm[t.end:nxt.start]
            if not any(mark in between for mark in "、和及与"):
                skips.append(Skip(t.start, t.end, "sizes the projects counted after it (超10亿元项目80个)"))
                continue
        kept.append(t)
    return kept
