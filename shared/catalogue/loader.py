"""Loads and validates the catalogue data file; a broken entry stops start-up naming the entry and field."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.catalogue.model import (
    ACCRUING_KINDS,
    BINDING_MARKERS,
    EXPECTED_MARKERS,
    Accrual,
    Department,
    Frequency,
    Indicator,
    Kind,
    Measure,
    Schedule,
    Strength,
    Target,
)

DEFAULT_PATH = Path(__file__).with_name("catalogue_2024.toml")
REPORT_PATH = Path(__file__).with_name("report_2024.txt")

_M = TypeVar("_M", Department, Indicator, Target)

# Evaluation parameters a target may set (see the evaluator's domain/evaluation.py for their defaults).
_POSITIVE_PARAMS = frozenset({"band_pp", "band", "tolerance_pp", "far_behind_pp", "warn_margin_pp", "hysteresis_pp"})
_NUMBER_PARAMS = frozenset({"province_limit", "start_value"})
_KNOWN_PARAMS = _POSITIVE_PARAMS | _NUMBER_PARAMS | {"value_from", "related_indicator", "related_measure",
                                                     "deflator", "province_phrase"}
_P = TypeVar("_P", bound=BaseModel)


class CatalogueError(ValueError):
    """The catalogue file is invalid; the message names the entry and the field."""


class Catalogue:
    """Departments, indicators and targets, cross-checked."""

    def __init__(
        self,
        departments: Iterable[Department],
        indicators: Iterable[Indicator],
        targets: Iterable[Target],
        *,
        year: int = 2024,
    ) -> None:
        self.year = year  # the year the targets are for
        self.departments = _unique("department", departments)
        self.indicators = _unique("indicator", indicators)
        self.targets = _unique("target", targets)
        self._check_references()
        self._by_indicator: dict[str, list[Target]] = {}
        for t in self.targets.values():
            for ind in _indicators_of(t):
                self._by_indicator.setdefault(ind, []).append(t)

    def targets_for_indicator(self, indicator_id: str) -> list[Target]:
        """Targets whose evaluation depends on the indicator (as their own or as the related one)."""
        return self._by_indicator.get(indicator_id, [])

    def department_name(self, department_id: str) -> str:
        """The Chinese name of a department id."""
        return self.departments[department_id].name_zh

    def _check_references(self) -> None:
        for dep in self.departments.values():
            if dep.parent is not None and dep.parent not in self.departments:
                raise CatalogueError(f"department {dep.id!r}: field 'parent': unknown department {dep.parent!r}")
        for ind in self.indicators.values():
            if ind.publisher not in self.departments:
                raise CatalogueError(
                    f"indicator {ind.id!r}: field 'publisher': unknown department {ind.publisher!r}"
                )
        for t in self.targets.values():
            for field, dep_id in [("lead_department", t.lead_department)] + [
                ("co_departments", d) for d in t.co_departments
            ]:
                if dep_id not in self.departments:
                    raise CatalogueError(f"target {t.id!r}: field {field!r}: unknown department {dep_id!r}")
            if t.indicator is not None:
                own = self.indicators.get(t.indicator)
                if own is None:
                    raise CatalogueError(f"target {t.id!r}: field 'indicator': unknown indicator {t.indicator!r}")
                ind = own
                if t.measure is not None and t.measure not in ind.measures:
                    raise CatalogueError(
                        f"target {t.id!r}: field 'measure': indicator {ind.id!r} is not reported as {t.measure}"
                    )
            if t.kind == Kind.RELATIONAL:
                rel = str(t.params["related_indicator"])
                if rel not in self.indicators:
                    raise CatalogueError(
                        f"target {t.id!r}: field 'params.related_indicator': unknown indicator {rel!r}"
                    )
                rel_measure = t.params.get("related_measure", t.measure)
                if rel_measure not in self.indicators[rel].measures:
                    raise CatalogueError(
                        f"target {t.id!r}: field 'params.related_measure': indicator {rel!r} is not reported "
                        f"as {rel_measure}"
                    )
            _check_params(t)
            _check_strength(t)
            _check_schedule(t, self.indicators[t.indicator].frequency if t.indicator else None)
            _check_basis(self, t)


def _fail(t: Target, field: str, rule: str) -> CatalogueError:
    return CatalogueError(f"target {t.id!r}: field {field!r}: {rule}")


def _check_strength(t: Target) -> None:
    """The strength follows the report's marker word (binding: 确保, 约束性, 完成省下达)."""
    marker = t.strength_marker
    if t.strength == Strength.BINDING and marker not in BINDING_MARKERS:
        raise _fail(t, "strength_marker", f"a binding target is marked by one of {', '.join(sorted(BINDING_MARKERS))}"
                                          f", not {marker!r}")
    if t.strength == Strength.EXPECTED and marker not in EXPECTED_MARKERS:
        words = ", ".join(sorted(m for m in EXPECTED_MARKERS if m))
        raise _fail(t, "strength_marker", f"an expected target is marked by one of {words} or by nothing, "
                                          f"not {marker!r}")


def _check_schedule(t: Target, frequency: Frequency | None) -> None:
    """Counts, totals and levels say how they accrue and how they are read mid-year; shares how they are read."""
    accruing = t.kind in ACCRUING_KINDS
    scheduled = accruing or t.kind == Kind.SHARE
    if accruing and t.accrual is None:
        raise _fail(t, "accrual", f"a {t.kind} target states how it builds up: "
                                  f"one of {', '.join(a.value for a in Accrual)}")
    if t.accrual is not None and not accruing and not (t.kind == Kind.SHARE and t.accrual == Accrual.STOCK):
        raise _fail(t, "accrual", f"only counts, totals and levels accrue, not a {t.kind} target")
    if scheduled and t.schedule is None:
        raise _fail(t, "schedule", f"a {t.kind} target states how it is read mid-year: "
                                   f"one of {', '.join(s.value for s in Schedule)}")
    if not scheduled and t.schedule is not None:
        raise _fail(t, "schedule", f"a {t.kind} target has no mid-year schedule")
    if t.schedule == Schedule.BATCH:
        months = list(t.batch_months)
        if not months or months != sorted(set(months)) or not all(1 <= m <= 12 for m in months):
            raise _fail(t, "batch_months", "the months in which the batches are granted, ascending, 1 to 12")
    elif t.batch_months:
        raise _fail(t, "batch_months", "only a batch schedule has batch months")
    if t.schedule == Schedule.PREVIOUS_YEAR_PATH and t.accrual not in (Accrual.NEW_THIS_YEAR, Accrual.NET_ADDED):
        raise _fail(t, "schedule", "last year's path only applies to figures built up within the year")
    if t.kind == Kind.SHARE and t.schedule not in (None, Schedule.DIRECT, Schedule.YEAR_END):
        raise _fail(t, "schedule", "a share is read directly or at the year end")
    if scheduled and frequency == Frequency.ANNUAL and t.schedule != Schedule.YEAR_END:
        raise _fail(t, "schedule", "its indicator is published once a year, so it can only be read at the "
                                   "year end (year_end)")


def _check_basis(catalogue: Catalogue, t: Target) -> None:
    """A relational target compares like with like: both growth rates on its basis, or the own one deflated."""
    if t.kind != Kind.RELATIONAL:
        if t.basis is not None:
            raise _fail(t, "basis", "only relational targets compare growth bases")
        return
    if t.basis is None:
        raise _fail(t, "basis", "a relational target states whether it compares real or nominal growth")
    own = catalogue.indicators[str(t.indicator)]
    rel = catalogue.indicators[str(t.params["related_indicator"])]
    for field, ind in (("indicator", own), ("params.related_indicator", rel)):
        if ind.growth_basis is None:
            raise _fail(t, field, f"indicator {ind.id!r} must state its growth_basis (real or nominal)")
    if rel.growth_basis != t.basis:
        raise _fail(t, "basis", f"indicator {rel.id!r} grows on a {rel.growth_basis} basis, the target compares "
                                f"{t.basis} growth: compare like with like")
    deflator = t.params.get("deflator")
    deflatable = t.basis == "real" and own.growth_basis == "nominal" and isinstance(deflator, str)
    if own.growth_basis != t.basis and not deflatable:
        raise _fail(t, "params.deflator", f"indicator {own.id!r} grows on a {own.growth_basis} basis: name the "
                                          f"price index that makes it {t.basis} (params.deflator)")
    if deflator is not None:
        if deflator not in catalogue.indicators:
            raise _fail(t, "params.deflator", f"unknown indicator {deflator!r}")
        if str(t.measure) not in catalogue.indicators[str(deflator)].measures:
            raise _fail(t, "params.deflator", f"indicator {deflator!r} is not reported as {t.measure}")


def _check_params(t: Target) -> None:
    def fail(name: str, rule: str) -> CatalogueError:
        return CatalogueError(f"target {t.id!r}: field 'params.{name}': {rule}")

    for name, value in t.params.items():
        if name == "seasonal_profile":
            raise fail(name, "removed: a seasonal path is data with its source, not a parameter; set schedule = "
                             "\"previous_year_path\" and send last year's released 1—N月 figures as observations")
        if name not in _KNOWN_PARAMS:
            raise fail(name, f"unknown parameter; known: {', '.join(sorted(_KNOWN_PARAMS))}")
        if name in _POSITIVE_PARAMS | _NUMBER_PARAMS and not isinstance(value, int | float):
            raise fail(name, "must be a number")
        if name in _POSITIVE_PARAMS and isinstance(value, int | float) and not value > 0:
            raise fail(name, "must be greater than 0")
    value_from = t.params.get("value_from")
    if value_from is not None:
        if value_from != "province":
            raise fail("value_from", "the only source of a target value besides the report is 'province'")
        if "province_limit" not in t.params:
            raise fail("province_limit", "required when value_from is 'province'")
    rel_measure = t.params.get("related_measure")
    if rel_measure is not None and rel_measure not in {m.value for m in Measure}:
        raise fail("related_measure", f"must be one of {', '.join(m.value for m in Measure)}")


def _indicators_of(t: Target) -> list[str]:
    out = [t.indicator] if t.indicator else []
    for name in ("related_indicator", "deflator"):
        other = t.params.get(name)
        if isinstance(other, str):
            out.append(other)
    return out


def _unique(kind: str, items: Iterable[_M]) -> dict[str, _M]:
    out: dict[str, _M] = {}
    for item in items:
        if item.id in out:
            raise CatalogueError(f"{kind} {item.id!r}: field 'id': defined twice")
        out[item.id] = item
    return out


def _parse(model: type[_P], kind: str, raw: list[dict[str, object]]) -> list[_P]:
    items: list[_P] = []
    for i, entry in enumerate(raw):
        try:
            items.append(model.model_validate(entry))
        except ValidationError as exc:
            ident = entry.get("id", f"#{i + 1}")
            problems = "; ".join(
                f"field {'.'.join(str(p) for p in e['loc']) or '(entry)'!r}: {e['msg']}" for e in exc.errors()
            )
            raise CatalogueError(f"{kind} {ident!r}: {problems}") from None
    return items


def parse_catalogue(text: str) -> Catalogue:
    """Parse and validate catalogue TOML text."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"catalogue file is not valid TOML: {exc}") from None
    year = doc.get("year")
    if not isinstance(year, int):
        raise CatalogueError("catalogue: field 'year': the year the targets are for is required (an integer)")
    return Catalogue(
        _parse(Department, "department", doc.get("department", [])),
        _parse(Indicator, "indicator", doc.get("indicator", [])),
        _parse(Target, "target", doc.get("target", [])),
        year=year,
    )


@cache
def load_catalogue(path: Path = DEFAULT_PATH) -> Catalogue:
    """Load the catalogue file (cached per path)."""
    return parse_catalogue(path.read_text(encoding="utf-8"))
