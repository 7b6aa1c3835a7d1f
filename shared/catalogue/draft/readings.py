"""The catalogue's reading fields of a drafted target: strength and its marker, accrual, schedule, basis.

Each is decided by the keyword table where it says (data copied from the 2024 catalogue's decisions), else by
the report's words (``rules``) and the indicator's frequency. What no rule decides is written the way the
catalogue reads it by default and flagged for review; a word the loader does not accept is written as found,
so the loader refuses it until a person has decided. No decision is made up.
"""

from __future__ import annotations

from shared.catalogue.draft.grammar import Token
from shared.catalogue.draft.items import DraftItem
from shared.catalogue.draft.keywords import IndicatorEntry
from shared.catalogue.draft.rules import (
    ACCRUING_KINDS,
    accrual_of,
    recognition_word,
    schedule_of,
    strength_marker,
    strength_of,
)

HEADLINE_STRENGTH_WORD = "主要预期目标"  # the paragraph's own title calls its targets 预期 (expected)
# The marker written for --default-strength, where no word of the phrase decides. The loader takes a binding
# target only with one of its binding words: 约束性 is the class itself, the operator declaring the unmarked
# commitments 约束性指标; an expected one needs none (what is not declared 约束性 is 预期性).
DEFAULT_STRENGTH_MARKERS = {"binding": "约束性", "expected": ""}
# What is written when no word says how a count or level builds up (and flagged): a count of things done in
# the year from zero, a level as a position at a date. A total is always the year's amount (rules.accrual_of).
_DEFAULT_ACCRUAL = {"count": ("new_this_year", "built up from zero this year"),
                    "level": ("stock", "a position at a date")}


def set_strength(item: DraftItem, stretches: list[str], *, headline: bool, about: bool,
                 default_strength: str | None) -> None:
    """Strength and marker from the first stretch of text with a word; 左右, the targets paragraph, the default."""
    strength, word = strength_of(stretches)
    if strength is None and about:
        strength, word = "expected", "左右"
    if strength is None and headline:
        strength, word = "expected", HEADLINE_STRENGTH_WORD
    if strength is None and default_strength:
        item.strength, item.strength_word = default_strength, "--default-strength"
        item.strength_marker = DEFAULT_STRENGTH_MARKERS[default_strength]
        if item.strength_marker:
            item.notes.append(f"strength_marker {item.strength_marker}: from --default-strength, not a word of the "
                              "phrase")
        return
    if strength is None:
        # Written as the catalogue reads a commitment with no marker, and flagged: a person confirms it.
        item.strength, item.strength_word, item.strength_marker = "expected", "", ""
        item.review.append("strength: no word decides it; expected was written with no marker (what is not "
                           "declared 约束性 is 预期性): make it binding only where the report says 确保, 约束性 or "
                           "完成省下达 (or rerun with --default-strength)")
        return
    item.strength, item.strength_word = strength, word
    marker = strength_marker(strength, word)
    if marker is not None:
        item.strength_marker = marker
        return
    # A word the loader does not take (必须, 下达, 努力, 预期性): written as found, so the entry stays refused.
    item.strength_marker = word
    accepted = "确保, 约束性 or 完成省下达" if strength == "binding" else "力争, 争创, 争取, 力促, 左右, 预期目标"
    fallback = "" if strength == "binding" else ", or no marker (strength_marker = \"\")"
    item.review.append(f"strength_marker: “{word}” reads {strength}, but the catalogue marks a {strength} target "
                       f"with {accepted}{fallback}: write the marker the report's words give, or change the strength")


def set_reading(item: DraftItem, entry: IndicatorEntry | None, tok: Token, words: str) -> None:
    """How a count, total or level builds up (accrual) and how it is read mid-year (schedule).

    ``words`` is the clause up to the end of the target's phrase; ``entry`` None means a new (todo_) indicator.
    """
    kind = item.kind
    if kind in ACCRUING_KINDS:
        accrual: str | None
        if entry is not None and entry.accrual is not None:
            accrual, why = entry.accrual, "keyword table"
        else:
            accrual, why = accrual_of(kind, tok, words, bool(entry is not None and entry.fields.get("at_date")))
        if accrual is None:
            accrual, why = _DEFAULT_ACCRUAL[kind]
            item.review.append(f"accrual: no word says how it builds up; {accrual} was written ({why}): "
                               "new_this_year if it is built up from zero this year (新增, 完成), stock if it is a "
                               "position at a date (余额, 覆盖率, 总数), net_added for the change of a stock (净增)")
        else:
            item.notes.append(f"accrual: {accrual} ({why})")
        item.accrual = accrual
    batch_months = entry.batch_months if entry is not None else ()
    schedule, why = schedule_of(kind, item.frequency, batch_months)
    if schedule is None:
        return
    item.schedule = schedule
    item.batch_months = batch_months if schedule == "batch" else ()
    item.notes.append(f"schedule: {schedule} ({why})")
    if entry is None and schedule == "year_end":
        item.review.append("schedule: year_end follows the frequency A written for the new indicator; with "
                           "monthly or quarterly figures write linear (序时进度), or batch with batch_months")
    word = recognition_word(words)
    if kind == "count" and schedule == "linear" and word:
        item.review.append(f"schedule: “{word}” is a recognition; recognitions granted in batches need schedule = "
                           "\"batch\" and batch_months (the months of the rounds), else they read 滞后 all spring: "
                           f"linear was written, the keyword table gives no batch months for {item.indicator}")


def set_basis(item: DraftItem, own: IndicatorEntry | None, other: IndicatorEntry | None) -> None:
    """A relational target's basis where both indicators state the same growth basis, else a review point."""
    if own is None or other is None:
        item.review.append("basis: real or nominal growth, once both indicators are known")
        return
    own_basis, other_basis = own.fields.get("growth_basis"), other.fields.get("growth_basis")
    if own_basis is not None and own_basis == other_basis:
        item.basis = str(own_basis)
        item.notes.append(f"basis: {own_basis} (both indicators grow {own_basis})")
        return
    if own_basis is None or other_basis is None:
        unstated = ", ".join(e.id for e, b in ((own, own_basis), (other, other_basis)) if b is None)
        item.review.append(f"basis: {unstated} states no growth_basis in the keyword table: state it on the "
                           "indicator (real: comparable prices; nominal: current prices), then set basis")
        return
    # The loader compares on the other indicator's basis; only a nominal own growth can be made real.
    if (own_basis, other_basis) == ("nominal", "real"):
        how = (f"basis = \"real\" with params.deflator naming the price index that makes {own.id} real (NBS "
               "compares real income growth with real GDP growth: the CPI)")
    else:
        how = f"point params.related_indicator at a series that grows {own_basis} and set basis = \"{own_basis}\""
    item.review.append(f"basis: {own.id} grows {own_basis}, {other.id} {other_basis}: compare like with like: {how}")
