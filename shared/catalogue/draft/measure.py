"""Recall and precision of the draft on the 2024 report against the hand-made catalogue_2024.toml.

``python -m shared.catalogue.draft.measure`` prints them; tests/unit/test_catalogue_draft.py holds the
thresholds. How they are counted:

- A *numeric target* is a catalogue target with a value. It is recalled when the draft has a target whose
  phrase overlaps the catalogue's in the report and whose value, unit and comparator are the same.
- A drafted target with a number is *right* when it is paired with a catalogue target of the same value, or
  when it is listed in ``GENUINE_EXTRAS`` (a commitment the catalogue lacks, with the reason). Numeric
  precision is right ÷ drafted with a number.
- Targets without a number (milestones, qualitative, relational, cap) are counted the same way, pairing by
  phrase overlap and kind family; they are guesses for a person to confirm, so their figures are lower.
- Of all paired targets, how often the drafted ``strength``, ``accrual`` and ``schedule`` equal the catalogue's
  (the catalogue's decisions; a draft never writes ``previous_year_path``, which needs last year's figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.catalogue.draft.against import Diff, compare
from shared.catalogue.draft.extract import draft_text
from shared.catalogue.draft.items import DraftItem
from shared.catalogue.loader import REPORT_PATH, Catalogue, load_catalogue
from shared.catalogue.model import Target

# Drafted numbers that are commitments the hand-made catalogue does not list: phrase → why it counts as right.
# Empty on the 2024 report: every number the draft keeps is in the catalogue (see the README's misses).
GENUINE_EXTRAS: dict[str, str] = {}


@dataclass
class Measurement:
    """Counts of one run of the draft against a catalogue."""

    numeric_targets: int = 0
    recalled: list[str] = field(default_factory=list)
    misses: list[tuple[str, str]] = field(default_factory=list)  # (target id, why)
    drafted_numeric: int = 0
    right_numeric: int = 0
    wrong_numeric: list[str] = field(default_factory=list)  # phrases
    other_targets: int = 0
    other_recalled: int = 0
    drafted_other: int = 0
    right_other: int = 0
    kind_agrees: int = 0
    indicator_agrees: int = 0
    owner_agrees: int = 0
    paired: int = 0  # catalogue targets with a drafted partner, with or without a number
    strength_agrees: int = 0
    accrual_targets: int = 0  # paired counts, totals and levels (they state an accrual)
    accrual_agrees: int = 0
    schedule_targets: int = 0  # paired counts, totals, levels and shares (they state a schedule)
    schedule_agrees: int = 0
    schedule_differs: list[tuple[str, str, str]] = field(default_factory=list)  # (target id, catalogue, draft)

    @property
    def recall(self) -> float:
        """Numeric targets recalled with the same value, unit and comparator ÷ numeric targets."""
        return len(self.recalled) / self.numeric_targets

    @property
    def precision(self) -> float:
        """Drafted numbers that are targets ÷ drafted numbers."""
        return self.right_numeric / self.drafted_numeric


def _same_number(t: Target, item: DraftItem) -> bool:
    return t.value is not None and item.value is not None and abs(t.value - item.value) < 1e-9


def _miss_reason(t: Target, item: DraftItem | None) -> str:
    if item is None:
        return "not drafted"
    parts = []
    if not _same_number(t, item):
        parts.append(f"value {t.value} → {item.value}")
    if t.unit != item.unit:
        parts.append(f"unit {t.unit} → {item.unit}")
    comparator = t.comparator.value if t.comparator else None
    if comparator != item.comparator:
        parts.append(f"comparator {comparator} → {item.comparator} ({item.comparator_word or 'no qualifier'})")
    return "; ".join(parts) or "paired, same"


def _value(x: object) -> object:
    return getattr(x, "value", x)  # an enum's value, None as it is


def _count_reading(m: Measurement, t: Target, item: DraftItem) -> None:
    m.paired += 1
    m.strength_agrees += _value(t.strength) == item.strength
    if t.accrual is not None:
        m.accrual_targets += 1
        m.accrual_agrees += _value(t.accrual) == item.accrual
    if t.schedule is None:
        return
    m.schedule_targets += 1
    if _value(t.schedule) == item.schedule and t.batch_months == item.batch_months:
        m.schedule_agrees += 1
    else:
        m.schedule_differs.append((t.id, str(_value(t.schedule)), str(item.schedule)))


def measure(text: str, catalogue: Catalogue) -> tuple[Measurement, Diff]:
    """Draft the text and count it against the catalogue."""
    diff = compare(draft_text(text), catalogue)
    m = Measurement()
    pairs = {t.id: item for t, item in diff.same} | {t.id: item for t, item, _ in diff.changed}
    paired_items = {id(item): t for t, item in diff.same} | {id(item): t for t, item, _ in diff.changed}
    for t in catalogue.targets.values():
        item = pairs.get(t.id)
        if item is not None:
            _count_reading(m, t, item)
        if t.value is None:
            m.other_targets += 1
            m.other_recalled += item is not None
            continue
        m.numeric_targets += 1
        comparator = t.comparator.value if t.comparator else None
        if item is not None and _same_number(t, item) and t.unit == item.unit and comparator == item.comparator:
            m.recalled.append(t.id)
            m.kind_agrees += t.kind.value == item.kind
            m.indicator_agrees += t.indicator == item.indicator
            m.owner_agrees += t.lead_department == item.lead_department
        else:
            m.misses.append((t.id, _miss_reason(t, item)))
    for item in diff.draft.items:
        target = paired_items.get(id(item))
        if item.value is None:
            m.drafted_other += 1
            m.right_other += target is not None
            continue
        m.drafted_numeric += 1
        if (target is not None and _same_number(target, item)) or item.phrase in GENUINE_EXTRAS:
            m.right_numeric += 1
        else:
            m.wrong_numeric.append(item.phrase)
    return m, diff


def main() -> None:
    """Print the measurement on the 2024 report."""
    m, _ = measure(REPORT_PATH.read_text(encoding="utf-8"), load_catalogue())
    n = len(m.recalled)
    print(f"numeric targets: recall {n}/{m.numeric_targets} = {m.recall:.3f} (same value, unit and comparator)")
    print(f"numeric drafts: precision {m.right_numeric}/{m.drafted_numeric} = {m.precision:.3f}")
    print(f"  of the recalled: kind agrees {m.kind_agrees}/{n}, indicator {m.indicator_agrees}/{n}, "
          f"lead department {m.owner_agrees}/{n}")
    print(f"targets without a number: recall {m.other_recalled}/{m.other_targets} = "
          f"{m.other_recalled / m.other_targets:.3f}, precision {m.right_other}/{m.drafted_other} = "
          f"{m.right_other / m.drafted_other:.3f}")
    print(f"of the {m.paired} paired targets: strength agrees {m.strength_agrees}/{m.paired}, accrual "
          f"{m.accrual_agrees}/{m.accrual_targets}, schedule {m.schedule_agrees}/{m.schedule_targets}")
    for target_id, why in m.misses:
        print(f"miss  {target_id}: {why}")
    for phrase in m.wrong_numeric:
        print(f"wrong «{phrase}»")
    for target_id, in_catalogue, drafted in m.schedule_differs:
        print(f"schedule  {target_id}: {in_catalogue} in the catalogue, {drafted} drafted")


if __name__ == "__main__":
    main()
