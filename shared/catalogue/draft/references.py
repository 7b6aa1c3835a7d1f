"""Ids for drafted targets, and the indicators and departments a draft must carry to load on its own."""

from __future__ import annotations

from typing import Any

from shared.catalogue.draft.items import DraftItem
from shared.catalogue.draft.keywords import KeywordTable

_KIND_SUFFIX = {"growth_rate": "_growth", "relational": "_in_step", "cap": "_cap", "qualitative": "_direction"}


def _section_tag(section: str) -> str:
    return "h" if section == "headline" else section


def assign_ids(items: list[DraftItem], placeholders: set[int]) -> None:
    """Give every target a unique id (from its indicator where known) and each new indicator a todo_ id."""
    taken: set[str] = set()
    per_section: dict[str, int] = {}
    for idx, item in enumerate(items):
        tag = _section_tag(item.section)
        per_section[tag] = per_section.get(tag, 0) + 1
        n = per_section[tag]
        if item.stretch_of is not None:
            item.indicator = items[item.stretch_of].indicator
            base = f"{items[item.stretch_of].id}_stretch"
        elif idx in placeholders:
            item.indicator = f"todo_{tag}_{n}"
            base = f"target_{tag}_{n}"
        elif item.kind == "milestone" or item.indicator is None:
            base = f"{item.kind}_{tag}_{n}"
        else:
            base = item.indicator + _KIND_SUFFIX.get(item.kind, "")
        ident, k = base, 1
        while ident in taken:
            k += 1
            ident = f"{base}_{k}"
        taken.add(ident)
        item.id = ident


def collect_references(
    items: list[DraftItem], placeholders: set[int], table: KeywordTable
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]], dict[str, dict[str, Any]]]:
    """(indicators, review notes per new indicator, departments) that the targets refer to, in first-use order."""
    indicators: dict[str, dict[str, Any]] = {}
    review: dict[str, list[str]] = {}
    for idx, item in enumerate(items):
        used = [item.indicator] if item.indicator else []
        related = item.params.get("related_indicator")
        if isinstance(related, str) and related in table.indicators:
            used.append(related)
        for ind in used:
            if ind in indicators:
                continue
            if idx in placeholders and ind == item.indicator:
                publisher = item.lead_department if item.lead_department != "gov_office" else "stats"
                indicators[ind] = {
                    "id": ind, "name_zh": item.name_zh, "name_en": "TODO", "unit": item.unit or "%",
                    "frequency": "A", "measures": [item.measure or "level"], "publisher": publisher,
                }
                review[ind] = [
                    f"indicator: new, drafted for «{item.phrase}»: give it an id and name_en; check unit, "
                    "frequency (A was written), measures, publisher, and add min_value/max_value"
                ]
            elif ind in table.indicators:
                indicators[ind] = dict(table.indicators[ind].fields)
    wanted: list[str] = []
    for item in items:
        wanted += [d for d in (item.lead_department, *item.co_departments) if d]
    wanted += [str(i["publisher"]) for i in indicators.values()]
    departments: dict[str, dict[str, Any]] = {}
    while wanted:
        dep = wanted.pop(0)
        if dep in departments or dep not in table.departments:
            continue
        departments[dep] = dict(table.departments[dep])
        parent = departments[dep].get("parent")
        if isinstance(parent, str):
            wanted.append(parent)
    return indicators, review, departments
