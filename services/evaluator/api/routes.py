"""The evaluator's HTTP API: where every target stands, one target's history, and departments' status reports."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from services.evaluator.adapters.database import readings_by_region_year
from services.evaluator.api.read_model import BoardEntry, FilterError, board_entries
from services.evaluator.domain.evaluation import STATUS_ZH, Status
from services.evaluator.domain.status_reports import ReportedStatus
from services.evaluator.runtime import runtime
from services.evaluator.service import NotReportable, NotResponsible, UnknownTarget, file_status_report
from shared.catalogue import Catalogue
from shared.regions import REGIONS
from shared.tokens import bearer_token, match_token

router = APIRouter(prefix="/v1", tags=["targets"])

# A target of the city's 2024 catalogue by its id, any other by "<region>.<year>.<id>".
TargetId = Annotated[str, Path(max_length=64, pattern=r"^(?:[a-z]+\.[0-9]{4}\.)?[a-z][a-z0-9_]*$")]


class TargetStatusOut(BaseModel):
    """A target with its current status (null fields when not evaluated yet)."""

    id: str
    section: str
    name_zh: str
    name_en: str
    phrase: str
    kind: str
    value: float | None
    unit: str | None
    lead_department: str
    lead_department_zh: str
    co_departments: list[str]
    period: str | None
    status: str | None
    status_zh: str | None
    severity: str | None
    actual: float | None
    expected: float | None
    progress: float | None
    expected_progress: float | None
    updated_at: datetime | None
    message_zh: str | None


class EvaluationOut(BaseModel):
    """One stored evaluation, with the data vintage (or the status report) it was based on."""

    id: str
    period: str
    status: str
    severity: str
    actual: float | None
    expected: float | None
    gap_abs: float | None
    gap_pp: float | None
    progress: float | None
    expected_progress: float | None
    projection: float | None
    run_rate_needed: float | None
    related_actual: float | None
    observation_id: str | None
    observation_vintage: int | None
    observation_status: str | None
    related_observation_id: str | None
    related_vintage: int | None
    report_id: str | None
    is_revision: bool
    softened: bool | None
    published: bool
    message_zh: str
    evaluated_at: datetime


class StatusReportIn(BaseModel):
    """A department's report on its milestone or qualitative target."""

    model_config = ConfigDict(extra="forbid")

    status: ReportedStatus = Field(description="not_started, in_progress, done, at_risk or missed")
    note: str = Field(min_length=2, max_length=2000, description="What was done or what stands in the way (中文)")


class StatusReportOut(BaseModel):
    """A stored status report."""

    id: str
    target_id: str
    status: str
    note: str
    department: str
    reported_at: datetime
    evaluation_id: str


class FiledReportOut(StatusReportOut):
    """A stored status report and the target status it led to."""

    target_status: str
    target_severity: str
    published: bool
    message_zh: str


def catalogue_for(request: Request, region: str | None = None, year: int | None = None) -> Catalogue:
    """The catalogue of a region and year (default: the city's default catalogue); 422 when there is none."""
    rt = runtime(request)
    if region is None and year is None:
        return rt.catalogue
    region = region or rt.catalogue.region
    found = rt.all_catalogues.get(region, year if year is not None else rt.catalogue.year)
    if found is None:
        have = ", ".join(f"{r} {y}" for r, y in rt.all_catalogues.by_key)
        raise HTTPException(422, [{"loc": ["query", "region"], "type": "value_error",
                                   "msg": f"no catalogue for region {region!r} in {year or rt.catalogue.year}; "
                                          f"catalogues: {have}"}])
    return found


def _catalogue_of(request: Request, target_id: str) -> Catalogue:
    found = runtime(request).all_catalogues.of_target(target_id)
    if found is None:
        raise HTTPException(404, f"target {target_id!r} is in no catalogue")
    return found


def _status_out(e: BoardEntry, catalogue: Catalogue) -> TargetStatusOut:
    t = e.target
    return TargetStatusOut(
        id=t.id, section=t.section, name_zh=t.name_zh, name_en=t.name_en, phrase=t.phrase, kind=t.kind.value,
        value=t.value, unit=t.unit, lead_department=t.lead_department,
        lead_department_zh=catalogue.department_name(t.lead_department), co_departments=list(t.co_departments),
        period=e.period, status=e.status, status_zh=STATUS_ZH[Status(e.status)] if e.status else None,
        severity=e.severity, actual=e.actual, expected=e.expected, progress=e.progress,
        expected_progress=e.expected_progress, updated_at=e.updated_at, message_zh=e.message_zh,
    )


def _entries(request: Request, department: str | None, section: str | None,
             catalogue: Catalogue | None = None) -> list[BoardEntry]:
    rt = runtime(request)
    try:
        with rt.database.reading() as store:
            return board_entries(catalogue or rt.catalogue, store.states.board(), department=department,
                                 section=section)
    except FilterError as exc:
        raise HTTPException(422, [{"loc": ["query", exc.field], "msg": str(exc), "type": "value_error"}]) from exc


@router.get("/targets", response_model=list[TargetStatusOut], summary="The board: every target and its status")
def board(
    request: Request,
    department: str | None = Query(default=None, max_length=64, description="Lead or co-department id"),
    section: str | None = Query(default=None, max_length=16, description="headline or 1..9"),
    region: str | None = Query(default=None, max_length=32, description="Region of the catalogue (default wuxi)"),
    year: int | None = Query(default=None, ge=1990, le=2100, description="Year of the catalogue (default 2024)"),
) -> list[TargetStatusOut]:
    """Every target of one catalogue (region and year) with its current status, optionally for one department or
    section."""
    catalogue = catalogue_for(request, region, year)
    return [_status_out(e, catalogue) for e in _entries(request, department, section, catalogue)]


def _entry(request: Request, target_id: str) -> BoardEntry:
    catalogue = _catalogue_of(request, target_id)
    section = catalogue.targets[target_id].section
    return next(e for e in _entries(request, None, section, catalogue) if e.target.id == target_id)


_NO_TARGET: dict[int | str, dict[str, Any]] = {404: {"description": "The target is not in the catalogue"}}


@router.get("/targets/{target_id}", response_model=TargetStatusOut, summary="One target and its status",
            responses=_NO_TARGET)
def one_target(request: Request, target_id: TargetId) -> TargetStatusOut:
    """One target with its current status."""
    return _status_out(_entry(request, target_id), _catalogue_of(request, target_id))


@router.get("/targets/{target_id}/evaluations", response_model=list[EvaluationOut],
            summary="One target's history: every evaluation, newest first", responses=_NO_TARGET)
def history(
    request: Request, target_id: TargetId, limit: int = Query(default=200, ge=1, le=1000)
) -> list[EvaluationOut]:
    """Every stored evaluation of a target, newest first, with the data vintage each used."""
    _entry(request, target_id)
    with runtime(request).database.reading() as store:
        rows = store.evaluations.history(target_id, limit)
    return [EvaluationOut.model_validate(asdict(r)) for r in rows]


@router.get("/targets/{target_id}/status-reports", response_model=list[StatusReportOut],
            summary="A milestone's status reports, newest first", responses=_NO_TARGET)
def reports(request: Request, target_id: TargetId) -> list[StatusReportOut]:
    """Every status report filed on a target, newest first."""
    _entry(request, target_id)
    with runtime(request).database.reading() as store:
        rows = store.reports.for_target(target_id)
    return [StatusReportOut.model_validate(asdict(r)) for r in rows]


# Declared for the OpenAPI document (the "Authorize" button, and fuzzers that check auth is not ignored).
department_scheme = HTTPBearer(auto_error=False, scheme_name="DepartmentToken",
                               description="The lead department's token (EVALUATOR_STATUS_REPORT_TOKENS): "
                               "`Authorization: Bearer …`")


def reporting_department(request: Request, _: object = Security(department_scheme)) -> str:
    """The department whose bearer token authenticates the request (401 otherwise)."""
    challenge = {"WWW-Authenticate": 'Bearer realm="evaluator"'}
    token = bearer_token(request.headers.get("Authorization"))
    if token is None:
        raise HTTPException(401, "a department bearer token is required (Authorization: Bearer …)", challenge)
    found = match_token(token, runtime(request).settings.status_report_tokens)
    if found is None:
        raise HTTPException(401, "the bearer token is not valid", challenge)
    return found


@router.post("/targets/{target_id}/status-reports", response_model=FiledReportOut, status_code=201,
             summary="File the lead department's status report on a milestone or qualitative target",
             responses={400: {"description": "The body is not JSON"},
                        401: {"description": "No or an unknown department bearer token"},
                        403: {"description": "The token's department does not lead this target"},
                        **_NO_TARGET,
                        409: {"description": "The target is evaluated from statistics, not from reports"}})
def file_report(
    request: Request, target_id: TargetId, body: StatusReportIn,
    department: str = Depends(reporting_department),
) -> FiledReportOut:
    """Store the report (history kept), re-evaluate the target and publish its status change, if any."""
    rt = runtime(request)
    now = rt.clock()
    try:
        with rt.database.transaction() as store:
            filed = file_status_report(store, rt.recorder, target_id=target_id, department=department,
                                       reported=body.status, note=body.note.strip(), now=now)
    except UnknownTarget as exc:
        raise HTTPException(404, str(exc)) from exc
    except NotReportable as exc:
        raise HTTPException(409, str(exc)) from exc
    except NotResponsible as exc:
        raise HTTPException(403, str(exc)) from exc
    if filed.published:
        rt.wake_relay()
    return FiledReportOut(
        id=filed.report_id, target_id=target_id, status=body.status.value, note=body.note.strip(),
        department=department, reported_at=now, evaluation_id=filed.evaluation_id, target_status=filed.status,
        target_severity=filed.severity, published=filed.published, message_zh=filed.message_zh,
    )


class WithoutCatalogueOut(BaseModel):
    """Observations of a region and year that has no catalogue: stored, judged against nothing."""

    region: str
    region_zh: str
    year: int
    observations: int  # series-periods held (the latest vintage of each)


@router.get("/observations/without-catalogue", response_model=list[WithoutCatalogueOut],
            summary="Observations stored for a region and year with no catalogue (evaluated against nothing)")
def without_catalogue(request: Request) -> list[WithoutCatalogueOut]:
    """Per region and year no catalogue uses (neither its year's nor, as last year's figures, the next year's),
    how many figures the evaluator holds and judged against nothing."""
    rt = runtime(request)
    return [WithoutCatalogueOut(region=c.region, region_zh=REGIONS.get(c.region, c.region), year=c.year,
                                observations=c.observations)
            for c in readings_by_region_year(rt.database.engine) if not rt.all_catalogues.judging(c.region, c.year)]
