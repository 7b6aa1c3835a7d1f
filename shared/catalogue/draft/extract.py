"""From a report's text to drafted targets: each with its phrase, value, unit, comparator, kind and guesses.

Numbers come only from the text (``grammar.find_tokens``); the keyword table only names indicators and
owners and, where the words do not, a kind. What the tool cannot decide goes into ``review``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.catalogue.draft.grammar import (
    PREFIX_WORDS,
    SUFFIX_WORDS,
    Clause,
    Skip,
    Token,
    clauses,
    find_tokens,
    merge_parts,
    split_parts,
)
from shared.catalogue.draft.items import Draft, DraftError, DraftItem, check_region
from shared.catalogue.draft.keywords import IndicatorEntry, KeywordTable, guess_indicator, guess_owner, load_table
from shared.catalogue.draft.layout import Block, find_layout, report_year
from shared.catalogue.draft.readings import set_basis, set_reading, set_strength
from shared.catalogue.draft.references import assign_ids, collect_references
from shared.catalogue.draft.rules import (
    direction_word,
    is_decrease,
    is_scope,
    kind_of,
    milestone_word,
)
from shared.catalogue.draft.text import normalise

_LIST_MARKS = "、和及与"
_ASPIRATION = re.compile(r"^(?:在实际工作中)?(?:力争|争取|努力)(?:实现|取得)?更好")
# 增长5.5%左右、力争6%: a second, higher target for the same thing, with no subject of its own.
_STRETCH = re.compile(r"^(?:力争|努力|争取|确保)(?:达到|达|超过|超|突破|实现)?$")
_RELATION = re.compile(r"^(?P<subject>.+?)(?:与|和|同)(?P<other>.+?)(?:基本|保持)?同步")


@dataclass
class _Context:
    text: str
    norm: str
    table: KeywordTable
    default_strength: str | None
    items: list[DraftItem] = field(default_factory=list)
    skipped: list[tuple[Skip, str]] = field(default_factory=list)
    placeholders: set[int] = field(default_factory=set)  # indexes of items whose indicator is new (todo_…)


def draft_text(
    text: str,
    *,
    year: int | None = None,
    region: str | None = None,
    table: KeywordTable | None = None,
    default_strength: str | None = None,
) -> Draft:
    """Draft the catalogue of a report's text (already decoded; see ``text.read_report``) for a region and year."""
    if region is not None:
        check_region(region)  # before any drafting: a wrong region is the caller's mistake, not the report's
    norm = normalise(text)
    layout = find_layout(norm)
    year = year if year is not None else report_year(norm)
    if year is None:
        raise DraftError("报告中找不到年份，请用 --year 指定。 / No year found in the report: pass --year.")
    ctx = _Context(text, norm, table or load_table(), default_strength)
    for block in layout.blocks:
        for clause in clauses(norm, block.start, block.end):
            _read_clause(ctx, block, clause)
    return _finish(ctx, year, region, list(layout.warnings))


def _stripped(norm: str, start: int, end: int) -> tuple[int, int]:
    while start < end and norm[start].isspace():
        start += 1
    while end > start and norm[end - 1].isspace():
        end -= 1
    return start, end


def _read_clause(ctx: _Context, block: Block, clause: Clause) -> None:
    norm = ctx.norm
    tokens, skips = find_tokens(norm, clause)
    c_start, c_end = _stripped(norm, clause.start, clause.end)
    ctext = norm[c_start:c_end]
    if tokens and not block.headline and is_scope(ctext):
        skips = skips + [Skip(t.start, t.end, "the clause only speeds up or studies (加快/推进/探索…): scope, "
                                              "not a target") for t in tokens]
        tokens = []
    ctx.skipped += [(s, ctx.text[c_start:c_end]) for s in skips]
    if not tokens:
        if block.headline:
            _add_headline_words(ctx, c_start, c_end)
        else:
            _add_words(ctx, block, c_start, c_end)
        return
    # A stretch after a number, with no number but a verb of its own (…4000个、建成3公里汽车充电服务圈), is a
    # milestone of its own; before the number (组建生态型、任务型…联合体10个) it is the number's verb.
    raw = split_parts(norm, clause)
    alone = [] if block.headline else [
        (s, e) for s, e in raw
        if s > tokens[0].start and not any(s <= t.start < e for t in tokens) and milestone_word(norm[s:e])
    ]
    work = [(s, e, True) for s, e in merge_parts(norm, [p for p in raw if p not in alone], tokens)]
    work += [(s, e, False) for s, e in alone]
    sub_clause = ctext.startswith("其中")
    parent = _parent_index(ctx, clause) if sub_clause else None
    for p_start, p_end, numeric in sorted(work):
        p_start, p_end = _stripped(norm, p_start, p_end)
        if not numeric:
            _add_words(ctx, block, p_start, p_end)
            continue
        own_tokens = [t for t in tokens if p_start <= t.start < p_end]
        if norm.startswith("其中", p_start) and not sub_clause:
            sub_clause, parent = True, len(ctx.items) - 1 if ctx.items else None
        for i in range(len(own_tokens)):
            _add_number(ctx, block, clause, (p_start, p_end), own_tokens, i, parent if sub_clause else None)


def _parent_index(ctx: _Context, clause: Clause) -> int | None:
    """The last target drafted in the same sentence before a 其中 clause."""
    for idx in range(len(ctx.items) - 1, -1, -1):
        item = ctx.items[idx]
        if item.start >= clause.sentence_start and item.value is not None:
            return idx
    return None


def _comparator(tokens: list[Token], i: int, norm: str, entry: IndicatorEntry | None) -> tuple[str, str, list[str]]:
    """(comparator, deciding word, review) for tokens[i]: its suffix, its prefix, a list's shared prefix, bare."""
    tok = tokens[i]
    review: list[str] = []
    prefix = tok.prefix_word
    if not prefix and i > 0 and not norm[tokens[i - 1].end:tok.start].strip("、和及与 "):
        prefix = tokens[i - 1].prefix_word  # 分别达920万人次、14.5万吨: 达 qualifies both
    if tok.suffix_word:
        comparator = SUFFIX_WORDS[tok.suffix_word]
        # 达到12.2%左右 is the usual way to say "about"; 控制在5.5%左右 mixes a ceiling and a band.
        if prefix and PREFIX_WORDS[prefix] != comparator and "at_most" in (PREFIX_WORDS[prefix], comparator):
            review.append(f"comparator: “{prefix}” reads {PREFIX_WORDS[prefix]}, “{tok.suffix_word}” reads "
                          f"{comparator}; {comparator} was taken")
        return comparator, tok.suffix_word, review
    if prefix:
        return PREFIX_WORDS[prefix], prefix, review
    if tok.value_max is not None:
        return "at_least", "", review
    return (entry.bare or "at_least") if entry else "at_least", "", review


def _measure(kind: str, entry: IndicatorEntry | None) -> str:
    measures = entry.measures if entry else ()
    if kind in ("growth_rate", "cap"):
        if measures and "cumulative_yoy_pct" not in measures and "yoy_pct" in measures:
            return "yoy_pct"  # a balance's growth: end of period against a year earlier
        return "cumulative_yoy_pct"
    if kind in ("cumulative_total", "count"):
        return "cumulative_level"
    if measures and kind in ("level", "share") and "level" not in measures and "cumulative_level" in measures:
        return "cumulative_level"
    return "level"


def _add_number(ctx: _Context, block: Block, clause: Clause, part: tuple[int, int], tokens: list[Token], i: int,
                parent: int | None) -> None:
    norm, tok = ctx.norm, tokens[i]
    p_start, p_end = part
    own = norm[p_start:p_end]
    if i == 0 and _STRETCH.match(norm[p_start:tok.start].strip()):
        previous = next((it for it in reversed(ctx.items) if it.start >= clause.start and it.value is not None), None)
        if previous is not None:
            _add_stretch(ctx, block, part, tok, previous)
            return
    w_start, w_end = _window(norm, tokens, i, part)
    context = norm[clause.start:w_end]
    context, own_words = _expand_pair(norm, own, tokens, i, context, norm[w_start:w_end])
    entry = guess_indicator(ctx.table, context, own_words, tok.unit)
    if entry is None:
        entry = guess_indicator(ctx.table, norm[clause.start:p_end], own, tok.unit)
    # 分别增长5.5%左右和6%左右: the second number shares the first one's lead-in (增长).
    first = i
    while first > 0 and not norm[tokens[first - 1].end:tokens[first].start].strip(_LIST_MARKS + " "):
        first -= 1
    before = norm[p_start:tokens[first].start]
    kind = kind_of(tok, before, entry.kind if entry else None, entry.unit if entry else None)
    comparator, comparator_word, review = _comparator(tokens, i, norm, entry)
    item = DraftItem(
        phrase=ctx.text[p_start:p_end], start=p_start, end=p_end, section=block.section, kind=kind,
        value=tok.value, value_max=tok.value_max, unit=tok.unit, comparator=comparator,
        comparator_word=comparator_word, parent=parent, review=review,
    )
    item.notes.append(f"comparator: {comparator_word or 'no qualifier'} → {comparator}")
    stretches = [own, norm[clause.start:p_start]]
    set_strength(item, stretches, headline=block.headline, about=tok.suffix_word == "左右",
                 default_strength=ctx.default_strength)
    if tok.value_max is not None:
        item.review.append(f"range: {tok.value:g}–{tok.value_max:g}{tok.unit}; the catalogue has one value: the "
                           f"lower end {tok.value:g} was taken as a floor; decide how to judge the range")
    decrease = is_decrease(before)
    if decrease:
        item.review.append(f"decrease: “{decrease}” {tok.value:g}{tok.unit} is a fall; the value is its size. "
                           "Check how the evaluator should read it (a growth of −value)")
    if tok.base in ("个百分点", "百分点"):
        item.review.append("percentage points: a change on last year's level; the catalogue needs the level "
                           "(last year's figure plus the change) and unit %")
    if "分别" in own and len(tokens) > 1:
        item.notes.append("分别: one of several targets sharing the phrase, in the order written")
    if kind == "cap" and comparator != "at_most":
        item.review.append(f"comparator: a cap read as {comparator} ({comparator_word or 'no qualifier'}); the "
                           "evaluator judges a cap against its limit: at_most, or another kind")
    if parent is not None:
        item.notes.append(f"其中: part of the target above («{ctx.items[parent].phrase}»)")
    _set_indicator(ctx, item, entry, kind, norm[w_start:w_end] if entry is None else "",
                   ctx.items[parent] if parent is not None else None)
    # A 其中 target reads its verb in the sentence (新备案…80个以上，其中超50亿元15个: 新备案).
    set_reading(item, entry, tok, norm[clause.sentence_start if parent is not None else clause.start:p_end])
    if not block.numbered and not block.headline:
        item.review.append("section: outside the targets paragraph and the numbered sections; "
                           "headline was written, check it")
    _check_section(item)
    ctx.items.append(item)


# 城乡居民人均可支配收入分别增长5.5%左右和6%左右: one word names two subjects, in this order.
_PAIRED_SUBJECTS = {"城乡": ("城镇", "农村"), "客货运": ("客运", "货运"), "进出口": ("进口", "出口")}


def _expand_pair(norm: str, own: str, tokens: list[Token], i: int, context: str, words: str) -> tuple[str, str]:
    """For 分别 with two numbers and a paired subject, the words of the i-th subject; else as given."""
    if "分别" not in own or len(tokens) != 2:
        return context, words
    subject = own[:own.index("分别")]
    for pair, names in _PAIRED_SUBJECTS.items():
        if pair in subject:
            named = subject.replace(pair, names[i], 1)
            return context.replace(subject, named, 1), named
    return context, words


def _add_stretch(ctx: _Context, block: Block, part: tuple[int, int], tok: Token, previous: DraftItem) -> None:
    """A higher target for what the previous number measures (…5.5%左右、力争6%): the same indicator and kind."""
    p_start, p_end = part
    comparator = SUFFIX_WORDS.get(tok.suffix_word) or PREFIX_WORDS.get(tok.prefix_word) or "at_least"
    item = DraftItem(
        phrase=ctx.text[p_start:p_end], start=p_start, end=p_end, section=block.section, kind=previous.kind,
        value=tok.value, unit=tok.unit, comparator=comparator, comparator_word=tok.suffix_word or tok.prefix_word,
        indicator=previous.indicator, measure=previous.measure, frequency=previous.frequency,
        lead_department=previous.lead_department, co_departments=previous.co_departments,
        name_zh=previous.name_zh, name_en=previous.name_en, params=dict(previous.params),
    )
    set_strength(item, [ctx.norm[p_start:p_end]], headline=block.headline, about=tok.suffix_word == "左右",
                 default_strength=ctx.default_strength)
    item.notes.append(f"comparator: {item.comparator_word or 'no qualifier'} → {comparator}")
    item.review.append(f"stretch: a second, higher target for «{previous.phrase}»; keep both (two ids) or one")
    if tok.unit != previous.unit:
        item.review.append(f"unit: {tok.unit} here, {previous.unit} in the target it raises")
    item.accrual, item.schedule, item.batch_months = previous.accrual, previous.schedule, previous.batch_months
    item.stretch_of = ctx.items.index(previous)  # a new (todo_) indicator gets its id at the end: share it then
    ctx.items.append(item)


def _window(norm: str, tokens: list[Token], i: int, part: tuple[int, int]) -> tuple[int, int]:
    """The words that belong to tokens[i] when a phrase holds several numbers.

    Between two numbers the last list mark (、和及与) divides the words: 30条背街小巷和25座桥下空间 gives 背街小巷
    to 30 and 桥下空间 to 25. With no mark (超50亿元15个) the words after a number go to the next one.
    """
    start, end = part
    if i > 0:
        between = norm[tokens[i - 1].end:tokens[i].start]
        mark = max(between.rfind(m) for m in _LIST_MARKS)
        start = tokens[i - 1].end + mark + 1 if mark >= 0 else tokens[i - 1].end
    if i + 1 < len(tokens):
        between = norm[tokens[i].end:tokens[i + 1].start]
        mark = max(between.rfind(m) for m in _LIST_MARKS)
        end = tokens[i].end + mark if mark >= 0 else tokens[i + 1].start
    return start, end


def _set_indicator(ctx: _Context, item: DraftItem, entry: IndicatorEntry | None, kind: str, words: str,
                   parent: DraftItem | None) -> None:
    if entry is not None:
        item.indicator = entry.id
        item.frequency = str(entry.fields["frequency"])
        item.measure = _measure(kind, entry)
        item.name_zh = str(entry.fields["name_zh"])
        item.name_en = str(entry.fields["name_en"])
        if kind == "growth_rate" and not item.name_zh.endswith(("增长", "增速", "增幅")):
            item.name_zh += "增长"
            item.name_en += " growth"
        if item.measure not in entry.measures:
            item.review.append(f"measure: {entry.id} is reported as {', '.join(entry.measures)}, not "
                               f"{item.measure}; change the kind or the indicator")
        if kind in ("level", "cumulative_total", "count") and item.unit != entry.unit:
            item.review.append(f"unit: the text says {item.unit}, the indicator {entry.id} is kept in "
                               f"{entry.unit}; convert the value or change the indicator")
        lead, co = entry.lead, entry.co
    else:
        item.measure = _measure(kind, None)
        item.frequency = "A"
        item.name_zh = f"{parent.name_zh}：{item.phrase}" if parent else _name_from(words or item.phrase, item)
        item.name_en = "TODO"
        item.review.append("indicator: no keyword of the table names it; a new indicator was drafted (todo_…): "
                           "name it or point the target at one that exists")
        item.review.append("name_en: write the English name")
        lead, co = None, ()
        ctx.placeholders.add(len(ctx.items))
    if lead is None:
        owner = guess_owner(ctx.table, item.phrase)
        if owner is not None:
            lead, co = owner.lead, owner.co
        elif parent is not None and parent.lead_department != "gov_office":
            lead, co = parent.lead_department, parent.co_departments
            item.notes.append("owner: that of the target it is part of")
    _set_owner(item, lead, co)


def _set_owner(item: DraftItem, lead: str | None, co: tuple[str, ...]) -> None:
    if lead is None:
        item.lead_department = "gov_office"
        item.review.append("lead_department: no keyword names an owner; 市政府办公室 was written as a placeholder")
    else:
        item.lead_department = lead
        item.co_departments = tuple(c for c in co if c != lead)


def _name_from(words: str, item: DraftItem) -> str:
    """A short Chinese name: the words around the number without it, its unit and qualifiers."""
    name = words
    for piece in (item.unit or "", item.comparator_word):
        name = name.replace(piece, "") if piece else name
    name = re.sub(r"[\d.,%]+", "", name).strip("、，和及与 ")
    return name if len(name) >= 2 else item.phrase


def _check_section(item: DraftItem) -> None:
    if item.section not in {"headline", *map(str, range(1, 10))}:
        item.review.append(f"section: the report's section {item.section}; the catalogue allows headline and 1–9")


def _attach(item: DraftItem, entry: IndicatorEntry, measure: str) -> None:
    """Give a target without a number its indicator (for context, or for a cap or relation) and owner."""
    item.indicator, item.measure = entry.id, measure
    item.frequency = str(entry.fields["frequency"])
    if item.unit is None:
        item.unit = entry.unit
    if measure not in entry.measures:
        item.review.append(f"measure: {entry.id} is reported as {', '.join(entry.measures)}, not {measure}")
    _set_owner(item, entry.lead, entry.co)


def _add_headline_words(ctx: _Context, start: int, end: int) -> None:
    """A clause of the targets paragraph with no number: relational, cap or qualitative, for a person to decide."""
    text = ctx.norm[start:end]
    if _ASPIRATION.search(text):
        return  # 力争实现更好结果: an aspiration beside a target, not one of its own
    item = DraftItem(phrase=ctx.text[start:end], start=start, end=end, section="headline", kind="qualitative",
                     name_zh=text, name_en="TODO")
    set_strength(item, [text], headline=True, about=False, default_strength=ctx.default_strength)
    item.notes.append("no number: a clause of the targets paragraph")
    relation = _RELATION.match(text)
    entry: IndicatorEntry | None
    if relation and "同步" in text:
        item.kind, item.comparator, item.unit = "relational", "in_step", "%"
        subject, other_words = relation.group("subject"), relation.group("other")
        entry = guess_indicator(ctx.table, subject, subject, None)
        other = guess_indicator(ctx.table, other_words, other_words, None)
        item.params = {"related_indicator": other.id if other else "todo", "related_measure": "cumulative_yoy_pct"}
        item.review.append("relational: growth against growth (cumulative_yoy_pct of both)? Set "
                           "params.band_pp for 基本同步, and params.related_indicator if it is not right")
        if other is None:
            item.review.append("params.related_indicator: no keyword names the other indicator")
        set_basis(item, entry, other)
        measure = "cumulative_yoy_pct"
    elif "控制在" in text or "范围内" in text or "以内" in text:
        item.kind, item.comparator = "cap", "at_most"
        entry = guess_indicator(ctx.table, text, text, None)
        item.unit = entry.unit if entry else "%"
        item.review.append("value: the limit is not in the report's text; set params.value_from = \"province\" "
                           "and params.province_limit (省定), or a value")
        measure = "cumulative_yoy_pct"
    else:
        entry = guess_indicator(ctx.table, text, text, None)
        item.review.append("kind: no number in the targets paragraph; qualitative was written (a status report "
                           "decides it); make it a cap or level if a value is set elsewhere")
        measure = entry.measures[0] if entry else ""
    item.review.append("name_en: write the English name")
    if entry is not None:
        _attach(item, entry, measure)
    else:
        if item.kind != "qualitative":
            item.review.append("indicator: no keyword of the table names it")
        owner = guess_owner(ctx.table, text)
        _set_owner(item, owner.lead if owner else None, owner.co if owner else ())
    ctx.items.append(item)


def _add_words(ctx: _Context, block: Block, start: int, end: int) -> None:
    """A clause with no number in a section: a milestone or a qualitative direction, when its words say so."""
    text = ctx.norm[start:end]
    word = milestone_word(text)
    direction = "" if word else direction_word(text)
    if not (word or direction):
        return
    item = DraftItem(phrase=ctx.text[start:end], start=start, end=end, section=block.section,
                     kind="milestone" if word else "qualitative", name_zh=text, name_en="TODO")
    set_strength(item, [text], headline=block.headline, about=False, default_strength=ctx.default_strength)
    entry = None if word else guess_indicator(ctx.table, text, text, None)
    if word:
        item.notes.append(f"milestone: “{word}”")
        item.review.append("milestone: check it is a commitment with an end state this year (a status report "
                           "decides it), or delete it")
    else:
        item.notes.append(f"qualitative: “{direction}”")
        item.review.append("qualitative: a direction with no number (a status report decides it), or delete it")
    item.review.append("name_en: write the English name")
    if entry is not None:
        _attach(item, entry, entry.measures[0])
    else:
        owner = guess_owner(ctx.table, text)
        _set_owner(item, owner.lead if owner else None, owner.co if owner else ())
    if not block.numbered:
        item.review.append("section: outside the targets paragraph and the numbered sections; "
                           "headline was written, check it")
    _check_section(item)
    ctx.items.append(item)


def _finish(ctx: _Context, year: int, region: str | None, warnings: list[str]) -> Draft:
    assign_ids(ctx.items, ctx.placeholders)
    indicators, indicator_review, departments = collect_references(ctx.items, ctx.placeholders, ctx.table)
    ctx.skipped.sort(key=lambda pair: pair[0].start)
    return Draft(ctx.text, year, ctx.items, indicators, indicator_review, departments, ctx.skipped, warnings,
                 region)
