"""The keyword table (keywords.toml beside this module): guesses of indicator, kind and owner from words."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from shared.catalogue.model import Accrual

DEFAULT_TABLE = Path(__file__).with_name("keywords.toml")
# Keys of an [[indicator]] entry that belong to the draft tool, not to the catalogue's Indicator.
_DRAFT_KEYS = frozenset({"keywords", "units", "kind", "bare", "accrual", "batch_months", "lead", "co"})
GAP = "…"  # in a keyword: the first piece anywhere earlier in the clause, the last in the target's own phrase


@dataclass(frozen=True)
class IndicatorEntry:
    """One [[indicator]] of the table: the catalogue fields to copy, and how the draft recognises it."""

    id: str
    fields: dict[str, Any]  # the catalogue's Indicator fields, as written in the table
    keywords: tuple[str, ...]
    units: tuple[str, ...] = ()
    kind: str | None = None
    bare: str | None = None
    accrual: str | None = None  # overrides the words' reading of how its targets build up
    batch_months: tuple[int, ...] = ()  # recognised in batches in these months (schedule "batch")
    lead: str | None = None
    co: tuple[str, ...] = ()

    @property
    def unit(self) -> str:
        """The unit the indicator's level values are kept in."""
        return str(self.fields["unit"])

    @property
    def measures(self) -> tuple[str, ...]:
        """The measures bureaus report for it."""
        return tuple(self.fields["measures"])


@dataclass(frozen=True)
class OwnerEntry:
    """One [[owner]]: a department guessed for phrases that name no indicator."""

    lead: str
    keywords: tuple[str, ...]
    co: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeywordTable:
    """Departments, indicators and owners of the table."""

    departments: dict[str, dict[str, Any]]
    indicators: dict[str, IndicatorEntry]
    owners: tuple[OwnerEntry, ...] = field(default=())


@cache
def load_table(path: Path = DEFAULT_TABLE) -> KeywordTable:
    """Load the keyword table; a department a lead or publisher names must be in it."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    departments = {d["id"]: dict(d) for d in doc.get("department", [])}
    indicators: dict[str, IndicatorEntry] = {}
    for raw in doc.get("indicator", []):
        entry = IndicatorEntry(
            id=raw["id"],
            fields={k: v for k, v in raw.items() if k not in _DRAFT_KEYS},
            keywords=tuple(raw["keywords"]),
            units=tuple(raw.get("units", ())),
            kind=raw.get("kind"),
            bare=raw.get("bare"),
            accrual=raw.get("accrual"),
            batch_months=tuple(raw.get("batch_months", ())),
            lead=raw.get("lead"),
            co=tuple(raw.get("co", ())),
        )
        _check_reading(path, entry)
        indicators[entry.id] = entry
    owners = tuple(OwnerEntry(o["lead"], tuple(o["keywords"]), tuple(o.get("co", ()))) for o in doc.get("owner", []))
    for e in indicators.values():
        for dep in (e.lead, e.fields.get("publisher"), *e.co):
            if dep is not None and dep not in departments:
                raise ValueError(f"{path.name}: indicator {e.id!r} names unknown department {dep!r}")
    for o in owners:
        if o.lead not in departments:
            raise ValueError(f"{path.name}: owner {o.keywords[:1]} names unknown department {o.lead!r}")
    return KeywordTable(departments, indicators, owners)


def _check_reading(path: Path, e: IndicatorEntry) -> None:
    """The draft-only accrual and batch months must be ones the catalogue's loader accepts."""
    if e.accrual is not None and e.accrual not in {a.value for a in Accrual}:
        raise ValueError(f"{path.name}: indicator {e.id!r}: accrual {e.accrual!r} is not one of "
                         f"{', '.join(a.value for a in Accrual)}")
    months = list(e.batch_months)
    if months and (months != sorted(set(months)) or not all(isinstance(m, int) and 1 <= m <= 12 for m in months)):
        raise ValueError(f"{path.name}: indicator {e.id!r}: batch_months are months 1 to 12, ascending")
    if months and e.fields.get("frequency") == "A":
        raise ValueError(f"{path.name}: indicator {e.id!r}: batch_months on an annual indicator (its targets can "
                         "only be read at the year end)")


def keyword_score(keyword: str, context: str, own: str) -> int:
    """How well a keyword matches: its length if found (its last piece in ``own``), else 0.

    ``context`` is the clause up to the end of the target's own phrase ``own``; a keyword "A…B" needs A in
    the context before B, and B in the phrase itself, so 重大产业项目新开工110个、竣工100个 gives 竣工 to
    the second number only.
    """
    pieces = keyword.split(GAP)
    if pieces[-1] not in own:
        return 0
    if len(pieces) == 1:
        return len(keyword)
    head = context[: len(context) - len(own) + own.rindex(pieces[-1])]
    pos = 0
    for piece in pieces[:-1]:
        found = head.find(piece, pos)
        if found < 0:
            return 0
        pos = found + len(piece)
    return sum(map(len, pieces))


def guess_indicator(table: KeywordTable, context: str, own: str, unit: str | None) -> IndicatorEntry | None:
    """The indicator whose keyword matches best, among those that accept the unit (None: no number)."""
    best: tuple[int, IndicatorEntry] | None = None
    for entry in table.indicators.values():
        if unit is not None and entry.units and unit not in entry.units:
            continue
        score = max((keyword_score(k, context, own) for k in entry.keywords), default=0)
        if score and (best is None or score > best[0]):
            best = (score, entry)
    return best[1] if best else None


def guess_owner(table: KeywordTable, text: str) -> OwnerEntry | None:
    """The owner whose keywords cover most of the text (a keyword inside a longer one found counts once).

    Ties go to the owner named first in the text (出台金融支持科技型企业政策措施: 金融 before 科技).
    """
    best: tuple[int, int, OwnerEntry] | None = None
    for owner in table.owners:
        found = [k for k in owner.keywords if k in text]
        found = [k for k in found if not any(k != other and k in other for other in found)]
        if not found:
            continue
        score, first = sum(map(len, found)), min(text.find(k) for k in found)
        if best is None or (score, -first) > (best[0], -best[1]):
            best = (score, first, owner)
    return best[2] if best else None
