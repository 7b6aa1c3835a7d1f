"""A draft against an existing catalogue: what is new, what changed, what is gone.

A catalogue target is paired with the drafted target whose phrase overlaps its own in the report (the same
report re-drafted), else with one of the same indicator and kind (next year's report against this year's
catalogue). Each pair is one-to-one, best match first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.catalogue.draft.emit import item_dict
from shared.catalogue.draft.items import Draft, DraftItem
from shared.catalogue.draft.text import normalise
from shared.catalogue.loader import Catalogue
from shared.catalogue.model import Target

_COMPARED = ("value", "unit", "comparator", "kind", "indicator", "lead_department", "strength", "strength_marker",
             "accrual", "schedule", "batch_months", "basis")


@dataclass
class Diff:
    """Pairs of a catalogue target and a drafted one, and what is on one side only."""

    draft: Draft
    same: list[tuple[Target, DraftItem]] = field(default_factory=list)
    changed: list[tuple[Target, DraftItem, list[str]]] = field(default_factory=list)
    new: list[DraftItem] = field(default_factory=list)
    gone: list[Target] = field(default_factory=list)

    def pair_of(self, target_id: str) -> DraftItem | None:
        """The drafted target paired with a catalogue target, if any."""
        for t, item in self.same:
            if t.id == target_id:
                return item
        for t, item, _ in self.changed:
            if t.id == target_id:
                return item
        return None


def locate(phrase: str, text: str, norm: str) -> tuple[int, int] | None:
    """Where a catalogue phrase is in the report (exactly, or once both are in the normal form)."""
    at = text.find(phrase)
    if at < 0:
        at = norm.find(normalise(phrase))
    return None if at < 0 else (at, at + len(phrase))


def _value(x: Any) -> Any:
    return x.value if hasattr(x, "value") else x  # an enum's value, else the thing itself


def differences(target: Target, item: DraftItem) -> list[str]:
    """The compared fields that differ, as 'field: old → new'."""
    out = []
    for name in _COMPARED:
        old, new = _value(getattr(target, name)), getattr(item, name)
        if isinstance(old, float) and isinstance(new, float) and abs(old - new) < 1e-9:
            continue
        if old != new:
            out.append(f"{name}: {old} → {new}")
    return out


def _score(target: Target, item: DraftItem) -> int:
    score = 0
    if target.value == item.value:
        score += 4
    if target.unit == item.unit:
        score += 1
    if _value(target.kind) == item.kind:
        score += 2
    if target.indicator is not None and target.indicator == item.indicator:
        score += 1
    return score


def compare(draft: Draft, catalogue: Catalogue) -> Diff:
    """Pair the draft's targets with the catalogue's and sort them into same, changed, new and gone."""
    norm = normalise(draft.text)
    items = draft.items
    spans = {t.id: locate(t.phrase, draft.text, norm) for t in catalogue.targets.values()}
    candidates: list[tuple[int, int, str, int]] = []
    for t in catalogue.targets.values():
        span = spans[t.id]
        if span is None:
            continue
        for idx, item in enumerate(items):
            overlap = min(span[1], item.end) - max(span[0], item.start)
            if overlap > 0 and (t.value is None) == (item.value is None):
                candidates.append((_score(t, item), overlap, t.id, idx))
    paired: dict[str, int] = {}
    used: set[int] = set()
    for _, _, t_id, idx in sorted(candidates, key=lambda c: (-c[0], -c[1], c[2], c[3])):
        if t_id not in paired and idx not in used:
            paired[t_id] = idx
            used.add(idx)
    # Targets whose phrase is not in this text (another year's report): the same indicator and kind.
    for t in catalogue.targets.values():
        if t.id in paired or spans[t.id] is not None or t.indicator is None:
            continue
        for idx, item in enumerate(items):
            if idx not in used and item.indicator == t.indicator and item.kind == _value(t.kind):
                paired[t.id] = idx
                used.add(idx)
                break
    diff = Diff(draft)
    for t in catalogue.targets.values():
        if t.id not in paired:
            diff.gone.append(t)
            continue
        item = items[paired[t.id]]
        changes = differences(t, item)
        if spans[t.id] is None:
            changes.append(f"phrase: {t.phrase} → {item.phrase}")
        if changes:
            diff.changed.append((t, item, changes))
        else:
            diff.same.append((t, item))
    diff.new = [item for idx, item in enumerate(items) if idx not in used]
    return diff


def _describe(item: DraftItem) -> str:
    number = "" if item.value is None else f" {item.value:g} {item.unit} {item.comparator}"
    return f"{item.kind}{number} «{item.phrase}»"


def diff_text(diff: Diff) -> str:
    """The differences, one line each, for a person."""
    lines = [f"new      {item.id}: {_describe(item)}" for item in diff.new]
    for t, item, changes in diff.changed:
        lines.append(f"changed  {t.id} (draft {item.id}): {'; '.join(changes)} «{t.phrase}»")
    lines += [f"gone     {t.id}: {_value(t.kind)} «{t.phrase}»" for t in diff.gone]
    lines.append(f"{len(diff.same)} same, {len(diff.changed)} changed, {len(diff.new)} new, {len(diff.gone)} gone")
    return "\n".join(lines) + "\n"


def diff_json(diff: Diff) -> str:
    """The differences as one JSON object: new (drafted targets), changed, gone, and the count of same."""
    items = diff.draft.items
    doc = {
        "new": [item_dict(i, items) for i in diff.new],
        "changed": [{"target": t.id, "draft": item_dict(i, items), "changes": c} for t, i, c in diff.changed],
        "gone": [{"target": t.id, "kind": _value(t.kind), "phrase": t.phrase} for t in diff.gone],
        "same": len(diff.same),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
