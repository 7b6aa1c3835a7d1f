"""The drafted catalogue's types: a target with the words that decided it, and the draft as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.catalogue.draft.grammar import Skip
from shared.regions import REGIONS


class DraftError(ValueError):
    """The report cannot be drafted (no year to be found, an unknown region); the message says what to pass."""


def check_region(region: str) -> str:
    """``region`` if it is a region of shared/regions.py, else a DraftError naming --region and the known ones."""
    if region not in REGIONS:
        known_zh = "、".join(f"{r}（{name}）" for r, name in REGIONS.items())
        raise DraftError(f"--region：没有“{region}”这个板块，应为 shared/regions.py 中的一个：{known_zh}。 / "
                         f"--region: unknown region {region!r}; one of {', '.join(REGIONS)}.")
    return region


@dataclass
class DraftItem:
    """One drafted target: the catalogue's fields, the words that decided them, and what a person must decide."""

    phrase: str
    start: int
    end: int
    section: str
    kind: str
    value: float | None = None
    value_max: float | None = None  # the upper end of a range; the catalogue has no field for it
    unit: str | None = None
    comparator: str | None = None
    comparator_word: str = ""  # "" when no word qualifies the number (read as the catalogue reads it)
    strength: str | None = None
    strength_word: str = ""  # the word that decided it, as found (主要预期目标, --default-strength) or ""
    strength_marker: str = ""  # what the catalogue records (预期目标): one of the loader's markers, or flagged
    accrual: str | None = None  # counts, totals and levels: new_this_year, stock or net_added
    schedule: str | None = None  # counts, totals, levels and shares: linear, batch, year_end or direct
    batch_months: tuple[int, ...] = ()
    basis: str | None = None  # relational targets: real or nominal, when both indicators agree
    indicator: str | None = None
    measure: str | None = None
    frequency: str = "Q"
    lead_department: str | None = None
    co_departments: tuple[str, ...] = ()
    name_zh: str = ""
    name_en: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    parent: int | None = None  # index of the target a 其中 item is part of
    stretch_of: int | None = None  # index of the target a 力争 item raises (same indicator)
    notes: list[str] = field(default_factory=list)  # why, for the reviewer (TOML comments)
    review: list[str] = field(default_factory=list)  # decisions a person must make
    id: str = ""


@dataclass
class Draft:
    """A drafted catalogue: its year, targets, the indicators and departments they use, what was skipped."""

    text: str
    year: int
    items: list[DraftItem]
    indicators: dict[str, dict[str, Any]]
    indicator_review: dict[str, list[str]]
    departments: dict[str, dict[str, Any]]
    skipped: list[tuple[Skip, str]]  # with the clause it was in
    warnings: list[str]
    region: str | None = None  # a key of shared.regions.REGIONS, written as the header's region; None: the city's
