"""Writing a draft: the catalogue's own TOML format for a person to review, or JSON for tools and tests."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shared.catalogue.draft.items import Draft, DraftItem
from shared.regions import REGIONS

# In the catalogue's order (catalogue_2024.toml); empty values are left out, as the model's defaults.
_TARGET_KEYS = ("id", "section", "name_zh", "name_en", "phrase", "kind", "indicator", "measure", "comparator",
                "value", "unit", "frequency", "lead_department", "co_departments", "strength", "strength_marker",
                "accrual", "schedule", "batch_months", "basis", "params")


def toml_value(value: Any) -> str:
    """A TOML literal for a string, number, list or table of them."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _section_label(section: str) -> str:
    if section == "headline":
        return "主要预期目标"
    digits = "一二三四五六七八九"
    return f"（{digits[int(section) - 1]}）" if section.isdigit() and 1 <= int(section) <= 9 else f"section {section}"


def _target_lines(item: DraftItem, items: list[DraftItem]) -> list[str]:
    notes = [_section_label(item.section)]
    if item.strength:
        notes.append(f"strength: {item.strength} ({item.strength_word or 'no word'})")
    notes += item.notes
    if item.review:
        notes.append(f"REVIEW ({len(item.review)})")
    lines = [f"# {' · '.join(notes)}"]
    if item.value_max is not None:
        lines.append(f"# range: {item.value:g}–{item.value_max:g} {item.unit} (upper end {item.value_max:g})")
    if item.parent is not None:
        lines.append(f"# part of: {items[item.parent].id}")
    lines.append("[[target]]")
    for key in _TARGET_KEYS:
        value = getattr(item, key)
        if value is None or value in ((), {}, ""):
            continue
        lines.append(f"{key} = {toml_value(value)}")
    if item.review:
        lines.append("review = [")
        lines += [f"    {toml_value(r)}," for r in item.review]
        lines.append("]")
    return lines


def to_toml(draft: Draft, source: str) -> str:
    """The draft in the catalogue's TOML format, with a review list on every entry that needs a decision."""
    digest = hashlib.sha256(draft.text.encode("utf-8")).hexdigest()[:12]
    flagged = sum(1 for i in draft.items if i.review) + len(draft.indicator_review)
    out = [
        f"# Draft catalogue written by `python -m shared.catalogue.draft` from {source} (sha256 {digest}…).",
        "# Review it (docs/new-report.md): every `review = [...]` names a decision the tool could not make.",
        "# The loader refuses an entry that still has `review`, so nothing loads before a person has decided;",
        "# delete the list once its points are settled. Every number below is written in the report's text.",
        f"# {len(draft.items)} targets, {flagged} entries to review, {len(draft.skipped)} numbers read and not "
        "drafted (listed at the end).",
    ]
    out += [f"# WARNING: {w}" for w in draft.warnings]
    out.append("")
    if draft.region is not None:
        out.append(f"region = {toml_value(draft.region)}  # {REGIONS[draft.region]} (shared/regions.py)")
    out += [f"year = {draft.year}", "", "# " + "-" * 75, "# Departments",
            "# The city's departments from the keyword table: a district's catalogue needs its own (区…).",
            "# " + "-" * 75, ""]
    for dep in draft.departments.values():
        out.append("[[department]]")
        out += [f"{k} = {toml_value(v)}" for k, v in dep.items()]
        out.append("")
    out += ["# " + "-" * 75, "# Indicators",
            "# Copied from the keyword table; min_value/max_value are the 2024 Wuxi catalogue's: check them for",
            "# this region's scale.", "# " + "-" * 75, ""]
    for ind_id, ind in draft.indicators.items():
        out.append("[[indicator]]")
        out += [f"{k} = {toml_value(v)}" for k, v in ind.items()]
        if ind_id in draft.indicator_review:
            out.append("review = [")
            out += [f"    {toml_value(r)}," for r in draft.indicator_review[ind_id]]
            out.append("]")
        out.append("")
    out += ["# " + "-" * 75, "# Targets", "# " + "-" * 75, ""]
    for item in draft.items:
        out += _target_lines(item, draft.items)
        out.append("")
    out += ["# " + "-" * 75, "# Numbers read and not drafted, and why", "# " + "-" * 75]
    for skip, clause in draft.skipped:  # a comment is one line: the report's line breaks become spaces
        number, context = (" ".join(s.splitlines()) for s in (draft.text[skip.start:skip.end], clause))
        out.append(f"# {number} «{context}»: {skip.reason}")
    return "\n".join(out) + "\n"


def item_dict(item: DraftItem, items: list[DraftItem]) -> dict[str, Any]:
    """One drafted target as a JSON object (the catalogue's fields, the deciding words, the review list)."""
    return {
        "id": item.id, "section": item.section, "phrase": item.phrase, "value": item.value,
        "value_max": item.value_max, "unit": item.unit, "comparator": item.comparator,
        "comparator_word": item.comparator_word, "kind": item.kind, "strength": item.strength,
        "strength_word": item.strength_word, "strength_marker": item.strength_marker, "accrual": item.accrual,
        "schedule": item.schedule, "batch_months": list(item.batch_months), "basis": item.basis,
        "indicator": item.indicator, "measure": item.measure,
        "frequency": item.frequency, "lead_department": item.lead_department,
        "co_departments": list(item.co_departments), "name_zh": item.name_zh, "name_en": item.name_en,
        "params": item.params, "parent": items[item.parent].id if item.parent is not None else None,
        "start": item.start, "end": item.end, "review": item.review,
    }


def to_json(draft: Draft) -> str:
    """The drafted targets as a JSON array."""
    return json.dumps([item_dict(i, draft.items) for i in draft.items], ensure_ascii=False, indent=2) + "\n"
