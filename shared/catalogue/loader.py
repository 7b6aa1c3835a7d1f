"""Loads and validates the catalogue data file; a broken entry stops start-up naming the entry and field."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from shared.catalogue.model import Department, Indicator, Kind, Measure, Target

DEFAULT_PATH = Path(__file__).with_name("catalogue_2024.toml")
REPORT_PATH = Path(__file__).with_name("report_2024.txt")

_M = TypeVar("_M", Department, Indicator, Target)

# Evaluation parameters a target may set (see the evaluator's domain/evaluation.py for their defaults).
_POSITIVE_PARAMS = frozenset({"band_pp", "band", "tolerance_pp", "far_behind_pp", "warn_margin_pp", "hysteresis_pp"})
_NUMBER_PARAMS = frozenset({"province_limit", "start_value"})
_KNOWN_PARAMS = _POSITIVE_PARAMS | _NUMBER_PARAMS | {"seasonal_profile", "value_from", "related_indicator",
                                                     "related_measure"}
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
                ind = self.indicators.get(t.indicator)
                if ind is None:
                    raise CatalogueError(f"target {t.id!r}: field 'indicator': unknown indicator {t.indicator!r}")
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


def _check_params(t: Target) -> None:
    def fail(name: str, rule: str) -> CatalogueError:
        return CatalogueError(f"target {t.id!r}: field 'params.{name}': {rule}")

    for name, value in t.params.items():
        if name not in _KNOWN_PARAMS:
            raise fail(name, f"unknown parameter; known: {', '.join(sorted(_KNOWN_PARAMS))}")
        if name in _POSITIVE_PARAMS | _NUMBER_PARAMS and not isinstance(value, int | float):
            raise fail(name, "must be a number")
        if name in _POSITIVE_PARAMS and not value > 0:  # type: ignore[operator]
            raise fail(name, "must be greater than 0")
    profile = t.params.get("seasonal_profile")
    if profile is not None:
        ok = (isinstance(profile, list) and len(profile) == 12 and all(0 <= x <= 1 for x in profile)
              and profile == sorted(profile) and profile[-1] == 1.0)
        if not ok:
            raise fail("seasonal_profile", "must be 12 cumulative shares of the year's total, one per month, "
                                           "never decreasing, between 0 and 1, ending at 1.0")
        if t.kind not in (Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL, Kind.SHARE):
            raise fail("seasonal_profile", f"only totals, counts, levels and shares follow a path, not {t.kind}")
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
    rel = t.params.get("related_indicator")
    if isinstance(rel, str):
        out.append(rel)
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
