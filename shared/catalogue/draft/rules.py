"""Word rules that decide a drafted target's kind, strength, accrual, schedule and whether a clause is a milestone.

Each rule records the word that decided it, so the reviewer sees why (strength: binding (确保)).
"""

from __future__ import annotations

import re

from shared.catalogue.draft.grammar import COUNT_BASES, MONEY_BASES, Token
from shared.catalogue.model import BINDING_MARKERS, EXPECTED_MARKERS

# Strength of a commitment. A binding word wins over an expected one in the same stretch of text
# (确保…左右 is binding: the band says how it is measured, 确保 says how firmly it is promised).
BINDING_WORDS = ("完成省下达", "完成国家下达", "下达", "约束性", "确保", "必须")
EXPECTED_WORDS = ("预期性", "力争", "争创", "争取", "力促", "努力")
_FORCE_ADVERBS = re.compile(r"着力|全力|大力|加力|合力|聚力|倾力|尽力|竭力|奋力")
GROWTH_WORDS = ("增长", "增幅", "增速", "涨幅", "上涨", "增加", "提高", "提升")
DECREASE_WORDS = ("下降", "降低", "减少", "压减", "削减", "降幅")
_SHARE = re.compile(r"占比|比重|比例|占.{0,14}比|占GDP")
_LEVEL_MONEY = ("余额", "规模", "存贷款", "存款", "人均", "村均", "户均", "总量", "保有")
_STOCK = ("入库", "总数", "累计", "总量", "保有", "每千", "每万", "每百", "稳定在", "保持在")
# Accrual only: a balance, an average or a threshold crossed is a state at a date.
_STOCK_STATE = (*_STOCK, "余额", "规模", "村均", "人均", "户均", "突破", "覆盖率")
# 达 just before the number: a level reached (托位数达4.5个). Not anywhere in the clause: 达标区 is a thing built.
_REACHES = ("达到", "达")
_FLOW = ("新增", "新备案", "备案", "新建", "新开工", "开工", "竣工", "建成", "完成", "引进", "招引", "培育", "实施",
         "开展", "打造", "建设", "举办", "推广", "组建", "开通", "净增", "改造", "发放", "认定", "启动", "开行",
         "提升", "新改建")
# A clause that only speeds something up or studies it sets no end state: its numbers are scope
# (加快蠡湖及其32条支浜水环境治理; 加快4所优质高中建设步伐), not targets.
_SCOPE_LEAD = re.compile(r"^(?:并|同时|全力|着力|大力|积极|持续|稳步|扎实)?(?:加快推进|加快|推进|探索|研究|谋划)")
# Words before the verb that do not change what is promised (争取 is a verb: 着力争取…试点 is a bid).
_ADVERBS = re.compile(r"^(?:并|同时|全力|着力|大力|积极|加力|加快|力争|推动|全面|高质量|精心|切实|稳步|扎实|提前|"
                      r"确保|努力|深入)+")
# Milestones: a thing done or not by year-end (see docs/catalogue-notes.md, "全覆盖 is a milestone", bids).
_MILESTONE = re.compile(
    r"^(?:制定|出台|印发|发布|编制|建成|开工建设|开工|创成|争创|创建|争取|组建|设立|启动|完成|消除|稳定消除|实现|开展)"
)
_EVENT = re.compile(r"^(?:举办|办好).*(?:届|会|节|赛|赛事|季|论坛|大会|年会|展|活动)$")
_OPEN_ENDED = ("一批", "更多", "各类")
_DIRECTION_END = re.compile(r"(?:稳中有升|稳中提质|持续攀升|稳步提升|持续向好|持续改善|保持[^，]{0,8}前列|基本稳定|"
                            r"基本平衡)$")
_DIRECTION_SHARE = re.compile(r"^巩固提升.*(?:占比|比重)$")


def strength_of(texts: list[str]) -> tuple[str | None, str]:
    """(binding|expected|None, the deciding word): the first stretch that has a word decides."""
    for text in texts:
        for word in BINDING_WORDS:
            if word in text:
                return "binding", word
        # 着力争取, 全力争创: the 力 belongs to the adverb, the word is 争取/争创, not 力争.
        plain = _FORCE_ADVERBS.sub("##", text)
        found = [(plain.find(w), w) for w in EXPECTED_WORDS if w in plain]
        if found:
            return "expected", min(found)[1]
    return None, ""


def kind_of(token: Token, before: str, entry_kind: str | None, entry_unit: str | None) -> str:
    """The kind of a number, from the table where it decides, else from the unit and the words before it.

    ``before`` is the target's own phrase up to the number.
    """
    is_pct = token.base == "%"
    if entry_kind is not None and entry_unit is not None and is_pct == (entry_unit == "%"):
        return entry_kind
    lead_in = before[-6:]
    if is_pct:
        if _SHARE.search(before):
            return "share"
        if any(w in lead_in for w in DECREASE_WORDS):
            return "growth_rate"
        if any(re.search(w + r"(?:达|为|在|了)?$", lead_in) for w in GROWTH_WORDS):
            return "growth_rate"
        return "level"
    if token.base in ("个百分点", "百分点"):
        return "level"
    if token.base in MONEY_BASES or token.base in ("万", "亿", "万亿"):
        return ("level" if any(w in before for w in _LEVEL_MONEY) else "cumulative_total")
    if any(w in before for w in _STOCK):
        return "level"
    if token.base in COUNT_BASES:
        return "count"
    if token.base in ("天", "倍"):
        return "level"
    return "cumulative_total"


def is_decrease(before: str) -> str:
    """The word that makes a % target a fall (降低2.5%左右), or ""."""
    lead_in = before[-6:]
    return next((w for w in DECREASE_WORDS if w in lead_in), "")


def strength_marker(strength: str, word: str) -> str | None:
    """The catalogue's marker inside the deciding word (主要预期目标 holds 预期目标), or None if it holds none."""
    accepted = BINDING_MARKERS if strength == "binding" else EXPECTED_MARKERS
    return next((m for m in sorted(accepted, key=len, reverse=True) if m and m in word), None)


ACCRUING_KINDS = ("count", "cumulative_total", "level")
SCHEDULED_KINDS = (*ACCRUING_KINDS, "share")


def accrual_of(kind: str, token: Token, text: str, at_date: bool = False) -> tuple[str | None, str]:
    """(new_this_year|stock|net_added|None, why) for counts, totals and levels: how the figure builds up.

    ``text`` is the clause up to the end of the target's own phrase (开工新建…14所、幼儿园9所: 开工);
    ``at_date`` says the indicator's values are positions at a date (余额, 覆盖率).
    """
    if kind not in ACCRUING_KINDS:
        return None, ""
    if "净增" in text:
        return "net_added", "净增"  # the change of a stock since last year's end, may be negative
    if kind == "cumulative_total":
        return "new_this_year", "an amount of the year"  # a stock amount is a level (余额, 规模: kind_of)
    if "新增" in text:
        return "new_this_year", "新增"  # from zero, even beside a stock word (新增…达)
    if at_date:
        return "stock", "indicator at a date"
    if token.base == "%":
        return "stock", "%"
    stock = next((w for w in _STOCK_STATE if w in text), "")
    if not stock and token.prefix_word in _REACHES:
        stock = token.prefix_word
    if stock:
        return "stock", stock
    flow = next((w for w in _FLOW if w in text), "")
    if flow:
        return "new_this_year", flow
    return None, ""


def schedule_of(kind: str, frequency: str, batch_months: tuple[int, ...]) -> tuple[str | None, str]:
    """(linear|batch|year_end|direct|None, why): how a count, total, level or share is read before the year ends.

    Never ``previous_year_path``: a seasonal path needs last year's released figures, which a reviewer arranges.
    """
    if kind not in SCHEDULED_KINDS:
        return None, ""
    if frequency == "A":
        return "year_end", "published once a year"  # the loader allows nothing else for an annual series
    if kind == "share":
        return "direct", "a ratio read against the target in every period"
    if batch_months:
        return "batch", "recognised in batches: keyword table"
    return "linear", "序时进度"  # 时间过半、任务过半: the official default reading


# Statuses granted in rounds: read along a straight line they are 滞后 all spring (issue 10, problem 6).
_RECOGNITION = ("认定", "评定", "认证", "命名", "入选", "获评", "评为", "授牌", "入规", "规上", "规模以上", "专精特新",
                "小巨人", "单项冠军", "高新技术企业", "瞪羚", "独角兽")


def recognition_word(text: str) -> str:
    """The word that makes a count a recognition granted in batches (认定, 专精特新 …), or ""."""
    return next((w for w in _RECOGNITION if w in text), "")


def is_scope(clause_text: str) -> bool:
    """Whether a clause only speeds up or studies something (its numbers describe scope)."""
    return bool(_SCOPE_LEAD.match(clause_text.strip()))


def milestone_word(clause_text: str) -> str:
    """The verb that makes a clause without numbers a milestone candidate, or ""."""
    text = clause_text.strip()
    if any(w in text for w in _OPEN_ENDED) or text.startswith(("持续", "继续", "常态化")):
        return ""
    if "全覆盖" in text:
        return "全覆盖"
    if "常态化运行" in text:
        return "常态化运行"
    core = _ADVERBS.sub("", text)
    if "全部启动" in core or re.match(r"^对.{1,12}启动", core):
        return "启动"
    if _EVENT.match(core):
        return "举办"
    if re.match(r"^开展.*试点$", core):
        return "试点"
    m = _MILESTONE.match(core)
    if m and m.group(0) not in ("实现", "开展", "完成"):
        return m.group(0)
    if m and m.group(0) == "完成" and core.endswith("任务"):
        return "完成…任务"
    return ""


def direction_word(clause_text: str) -> str:
    """The words that make a clause without numbers a qualitative target (…稳中有升, 巩固提升…占比), or ""."""
    text = clause_text.strip()
    m = _DIRECTION_END.search(text)
    if m:
        return m.group(0)
    if _DIRECTION_SHARE.match(text):
        return "巩固提升"
    return ""
