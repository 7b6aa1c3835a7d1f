"""Loads and validates the catalogue data file; a broken entry stops start-up naming the entry and field."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
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
from shared.errors import ConfigurationError
from shared.periods import Period, PeriodError
from shared.regions import CITY, REGIONS

DEFAULT_PATH = Path(__file__).with_name("catalogue_2024.toml")
DEFAULT_DIR = Path(__file__).parent  # the shipped catalogues: every *.toml file directly in it
# The first catalogue: its target ids are stored unqualified (evaluations, states and alerts written before
# catalogues had regions key on them). Every other catalogue's targets are keyed "<region>.<year>.<id>".
PRIMARY = (CITY, 2024)
REPORT_PATH = Path(__file__).with_name("report_2024.txt")

_M = TypeVar("_M", Department, Indicator, Target)

# Evaluation parameters a target may set (see the evaluator's domain/evaluation.py for their defaults).
_POSITIVE_PARAMS = frozenset({"band_pp", "band", "tolerance_pp", "far_behind_pp", "warn_margin_pp", "hysteresis_pp"})
_NUMBER_PARAMS = frozenset({"province_limit", "start_value"})
_KNOWN_PARAMS = _POSITIVE_PARAMS | _NUMBER_PARAMS | {"value_from", "related_indicator", "related_measure",
                                                     "deflator", "province_phrase"}
_P = TypeVar("_P", bound=BaseModel)


class CatalogueError(ConfigurationError):
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
        region: str = CITY,
        outside_departments: Mapping[str, Department] | None = None,
    ) -> None:
        self.year = year  # the year the targets are for
        self.region = region  # the region they are for (a key of shared.regions.REGIONS)
        self.departments = _unique("department", departments)
        # Departments of the city's catalogues a district's departments may name as their parent.
        self.outside_departments = dict(outside_departments or {})
        self.indicators = _unique("indicator", indicators)
        by_id = _unique("target", targets)
        self.targets: dict[str, Target] = by_id
        self._check_region()
        self._check_references()
        if (region, year) != PRIMARY:
            self.targets = {qualified_id(region, year, k): t.model_copy(update={
                "id": qualified_id(region, year, k),
                "feeds": qualified_id(region, year, t.feeds) if t.feeds else None}) for k, t in by_id.items()}
        self._by_indicator: dict[str, list[Target]] = {}
        for t in self.targets.values():
            for ind in _indicators_of(t):
                self._by_indicator.setdefault(ind, []).append(t)

    def targets_for_indicator(self, indicator_id: str) -> list[Target]:
        """Targets whose evaluation depends on the indicator (as their own or as the related one)."""
        return self._by_indicator.get(indicator_id, [])

    def department_name(self, department_id: str) -> str:
        """The Chinese name of a department id (its own, or a city department its departments report to)."""
        dep = self.departments.get(department_id) or self.outside_departments[department_id]
        return dep.name_zh

    @property
    def key(self) -> tuple[str, int]:
        """What identifies the catalogue: its region and year."""
        return (self.region, self.year)

    def _check_region(self) -> None:
        if self.region not in REGIONS:
            raise CatalogueError(f"catalogue: field 'region': unknown region {self.region!r}; "
                                 f"one of {', '.join(REGIONS)}")
        if self.region == CITY:
            return
        # A district has its own 发改局, 统计局 …: its departments are its own ids, not the city's.
        for dep in self.departments.values():
            if not dep.id.startswith(f"{self.region}_"):
                raise CatalogueError(f"department {dep.id!r}: field 'id': a department of region {self.region!r} "
                                     f"is named {self.region}_<id> (the city's departments are not redefined)")

    def _check_references(self) -> None:
        for dep in self.departments.values():
            if dep.parent is not None and dep.parent not in self.departments | self.outside_departments:
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
            _check_feeds(self, t)
            _check_params(t)
            _check_strength(t)
            _check_schedule(t, self.indicators[t.indicator].frequency if t.indicator else None)
            _check_basis(self, t)


def _check_feeds(catalogue: Catalogue, t: Target) -> None:
    # Checked before the ids are qualified: a district's target names a headline target of its own catalogue.
    if t.feeds is None:
        return
    headline = catalogue.targets.get(t.feeds)
    if headline is None:
        raise CatalogueError(f"目标 {t.id!r}：字段 'feeds'：不存在的目标 {t.feeds!r} "
                             f"(target {t.id!r}: field 'feeds': unknown target {t.feeds!r})")
    if headline.section != "headline" or t.feeds == t.id:
        raise CatalogueError(f"目标 {t.id!r}：字段 'feeds'：{t.feeds!r} 不是另一个主要目标(section = \"headline\") "
                             f"(target {t.id!r}: field 'feeds': {t.feeds!r} is not another headline target)")


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


def qualified_id(region: str, year: int, target_id: str) -> str:
    """The key a target of the (region, year) catalogue is stored and published under."""
    return target_id if (region, year) == PRIMARY else f"{region}.{year}.{target_id}"


def _read_toml(text: str) -> dict[str, object]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"catalogue file is not valid TOML: {exc}") from None


def _header(doc: Mapping[str, object]) -> tuple[str, int]:
    year = doc.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise CatalogueError("catalogue: field 'year': the year the targets are for is required (an integer)")
    region = doc.get("region", CITY)
    if not isinstance(region, str):
        raise CatalogueError("catalogue: field 'region': the region the targets are for (a string, e.g. 'wuxi')")
    return region, year


def _build(doc: Mapping[str, object], outside_departments: Mapping[str, Department] | None = None) -> Catalogue:
    region, year = _header(doc)
    return Catalogue(
        _parse(Department, "department", doc.get("department", [])),  # type: ignore[arg-type]
        _parse(Indicator, "indicator", doc.get("indicator", [])),  # type: ignore[arg-type]
        _parse(Target, "target", doc.get("target", [])),  # type: ignore[arg-type]
        year=year,
        region=region,
        outside_departments=outside_departments,
    )


def parse_catalogue(text: str, outside_departments: Mapping[str, Department] | None = None) -> Catalogue:
    """Parse and validate catalogue TOML text (``region`` defaults to the city)."""
    return _build(_read_toml(text), outside_departments)


@cache
def load_catalogue(path: Path = DEFAULT_PATH) -> Catalogue:
    """Load the catalogue file (cached per path)."""
    return parse_catalogue(path.read_text(encoding="utf-8"))


class Catalogues:
    """Every catalogue, keyed by (region, year); the evaluator picks the one of an observation's region and year."""

    def __init__(self, catalogues: Iterable[Catalogue]) -> None:
        self.by_key: dict[tuple[str, int], Catalogue] = {}
        for c in catalogues:
            if c.key in self.by_key:
                raise CatalogueError(f"catalogue ({c.region}, {c.year}): fields 'region', 'year': defined twice")
            self.by_key[c.key] = c
        if not self.by_key:
            raise CatalogueError("no catalogue: at least one catalogue file is needed")
        self.targets: dict[str, Target] = {}
        self.departments: dict[str, Department] = {}
        self._of_target: dict[str, Catalogue] = {}
        for c in self.by_key.values():
            self.departments.update(c.departments)
            for key, t in c.targets.items():
                self.targets[key] = t
                self._of_target[key] = c

    @classmethod
    def single(cls, catalogue: Catalogue) -> Catalogues:
        """A registry of one catalogue (tests, and callers that still hold one)."""
        return cls([catalogue])

    @property
    def primary(self) -> Catalogue:
        """The city's 2024 catalogue when loaded, else the first: what the API and board show by default."""
        return self.by_key.get(PRIMARY) or next(iter(self.by_key.values()))

    def get(self, region: str, year: int) -> Catalogue | None:
        """The catalogue of a region and year, or None."""
        return self.by_key.get((region, year))

    def for_observation(self, region: str, period: str) -> Catalogue | None:
        """The catalogue an observation of ``region`` in ``period`` (SDMX code) is judged against, or None."""
        try:
            year = Period.parse(period).year
        except PeriodError:
            return None
        return self.by_key.get((region, year))

    def judging(self, region: str, year: int) -> list[Catalogue]:
        """The catalogues a figure of ``region`` in ``year`` moves: its year's, and the next year's (last year's
        figures are the path, the growth weights and a stock's start of this year's targets)."""
        return [c for c in (self.by_key.get((region, year)), self.by_key.get((region, year + 1))) if c is not None]

    def of_target(self, target_id: str) -> Catalogue | None:
        """The catalogue holding a target key."""
        return self._of_target.get(target_id)

    def department_name(self, department_id: str) -> str:
        """The Chinese name of a department of any catalogue."""
        return self.departments[department_id].name_zh

    def __iter__(self) -> Iterator[Catalogue]:
        return iter(self.by_key.values())

    def __len__(self) -> int:
        return len(self.by_key)


def load_catalogues(directory: Path = DEFAULT_DIR) -> Catalogues:
    """Load every ``*.toml`` catalogue file directly in ``directory``; an error names the file and the field.

    The city's catalogues load first, so a district's departments may name a city department as their parent
    (the escalation chain runs up to the city). A department defined in two files must be defined the same.
    """
    files = sorted(p for p in directory.glob("*.toml") if p.is_file())
    if not files:
        raise CatalogueError(f"{directory}: no catalogue file (*.toml)")
    docs: list[tuple[Path, dict[str, object], tuple[str, int]]] = []
    for path in files:
        try:
            doc = _read_toml(path.read_text(encoding="utf-8"))
            docs.append((path, doc, _header(doc)))
        except CatalogueError as exc:
            raise CatalogueError(f"{path}: {exc}") from None
    docs.sort(key=lambda d: (d[2][0] != CITY, d[2]))
    built: list[Catalogue] = []
    where: dict[tuple[str, int], Path] = {}
    city_departments: dict[str, Department] = {}
    department_file: dict[str, Path] = {}
    for path, doc, key in docs:
        if key in where:
            raise CatalogueError(f"{path}: catalogue: fields 'region', 'year': ({key[0]}, {key[1]}) is already the "
                                 f"catalogue of {where[key]}")
        try:
            catalogue = _build(doc, city_departments if key[0] != CITY else None)
        except CatalogueError as exc:
            raise CatalogueError(f"{path}: {exc}") from None
        for dep in catalogue.departments.values():
            seen = city_departments.get(dep.id) or next(
                (c.departments[dep.id] for c in built if dep.id in c.departments), None)
            if seen is not None and seen != dep:
                raise CatalogueError(f"{path}: department {dep.id!r}: field 'id': defined differently in "
                                     f"{department_file[dep.id]}")
            department_file.setdefault(dep.id, path)
            if key[0] == CITY:
                city_departments[dep.id] = dep
        where[key] = path
        built.append(catalogue)
    return Catalogues(built)
