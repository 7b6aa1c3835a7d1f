"""Ingest's HTTP routes: translate requests to use cases and back; the route owns the transaction."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.ingest.adapters.tables import observations
from services.ingest.api.schemas import (
    BatchAccepted,
    IndicatorOut,
    ObservationAccepted,
    ObservationBatchIn,
    ObservationIn,
    ObservationOut,
    ValidationErrorOut,
)
from services.ingest.domain.observations import Checked, FieldError, Outcome, Submission, check_submission
from services.ingest.runtime import IngestRuntime
from services.ingest.service import Recorded, record_observations
from shared.catalogue.model import Frequency
from shared.units import convertible_units

router = APIRouter(prefix="/v1", tags=["observations"])

_PERIOD_FORMATS = {
    Frequency.MONTHLY: ["YYYY-MMM (e.g. 2024-M03; 2024-M02 = 1—2月)", "YYYY-Qn", "YYYY-Sn", "YYYY"],
    Frequency.QUARTERLY: ["YYYY-Qn", "YYYY-Sn", "YYYY"],
    Frequency.HALF_YEARLY: ["YYYY-Sn", "YYYY"],
    Frequency.ANNUAL: ["YYYY"],
}
_422 = {422: {"model": ValidationErrorOut, "description": "Invalid rows: every bad row, field and rule"}}


class Rejected(Exception):
    """Submissions failed validation; mapped to HTTP 422 by the app's error handler."""

    def __init__(self, errors: list[FieldError], batch: bool) -> None:
        self.errors = errors
        self.batch = batch


def _runtime(request: Request) -> IngestRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _check_all(rt: IngestRuntime, items: list[ObservationIn], batch: bool) -> list[Checked]:
    today = rt.clock().date()
    checked: list[Checked] = []
    errors: list[FieldError] = []
    for i, item in enumerate(items):
        sub = Submission(
            indicator=item.indicator, region=item.region, period=item.period, measure=item.measure.value,
            value=item.value, unit=item.unit, status=item.status.value, note=item.note, source=item.source,
            revision_reason=item.revision_reason,
        )
        result = check_submission(rt.catalogue, i, sub, today)
        if isinstance(result, list):
            errors.extend(result)
        else:
            checked.append(result)
    if errors:
        raise Rejected(errors, batch)
    return checked


def _store(rt: IngestRuntime, checked: list[Checked], submitted_by: str) -> list[Recorded]:
    # Two requests revising the same series at once collide on (series, vintage); the loser retries and
    # sees the winner's vintage.
    for attempt in range(3):
        try:
            with rt.engine.begin() as conn:
                results = record_observations(conn, rt.outbox, checked, submitted_by=submitted_by,
                                              now=rt.clock())
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if any(r.outcome != Outcome.UNCHANGED for r in results):
        rt.relay.wake()
    return results


@router.post(
    "/observations",
    response_model=ObservationAccepted,
    status_code=201,
    summary="Submit one observation",
    responses={200: {"model": ObservationAccepted, "description": "Identical to the stored figure: unchanged"},
               **_422},
)
def submit_observation(body: ObservationIn, request: Request, response: Response) -> ObservationAccepted:
    """Store one figure; a different value for a stored series is a revision, an identical one changes nothing."""
    rt = _runtime(request)
    [result] = _store(rt, _check_all(rt, [body], batch=False), submitted_by="anonymous")
    if result.outcome == Outcome.UNCHANGED:
        response.status_code = 200
    return ObservationAccepted(id=result.id, outcome=result.outcome.value, vintage=result.vintage)


@router.post(
    "/observations/batch",
    response_model=BatchAccepted,
    status_code=201,
    summary="Submit a batch of observations atomically",
    responses=_422,
)
def submit_batch(body: ObservationBatchIn, request: Request) -> BatchAccepted:
    """Store every row or none: a single bad row rejects the batch, and the error lists every bad row."""
    rt = _runtime(request)
    if len(body.observations) > rt.settings.max_batch_size:
        raise Rejected([FieldError(0, "observations", "batch_too_large",
                                   f"at most {rt.settings.max_batch_size} observations per request")], True)
    results = _store(rt, _check_all(rt, body.observations, batch=True), submitted_by="anonymous")
    counts = {o: sum(1 for r in results if r.outcome == o) for o in Outcome}
    return BatchAccepted(
        results=[ObservationAccepted(id=r.id, outcome=r.outcome.value, vintage=r.vintage) for r in results],
        created=counts[Outcome.CREATED], revised=counts[Outcome.REVISED], unchanged=counts[Outcome.UNCHANGED],
    )


@router.get("/observations", response_model=list[ObservationOut], summary="Observations with their vintages")
def list_observations(
    request: Request,
    indicator: str = Query(min_length=1, max_length=64),
    region: str | None = Query(default=None, max_length=32),
    period: str | None = Query(default=None, max_length=16),
    current_only: bool = Query(default=False, description="Only the latest vintage of each series"),
    limit: int = Query(default=1000, ge=1, le=10000),
) -> list[ObservationOut]:
    """Stored observations of an indicator, oldest vintage first, optionally by region and period."""
    t = observations
    q = select(t).where(t.c.indicator == indicator)
    if region is not None:
        q = q.where(t.c.region == region)
    if period is not None:
        q = q.where(t.c.period == period)
    if current_only:
        q = q.where(t.c.is_current)
    q = q.order_by(t.c.period, t.c.measure, t.c.region, t.c.vintage).limit(limit)
    with _runtime(request).engine.connect() as conn:
        return [ObservationOut.model_validate(r._mapping) for r in conn.execute(q)]


@router.get("/indicators", response_model=list[IndicatorOut], tags=["catalogue"], summary="Indicators accepted")
def list_indicators(request: Request) -> list[IndicatorOut]:
    """Every indicator ingest accepts, with its unit, the units it converts from, frequency and measures."""
    return [
        IndicatorOut(
            id=i.id, name_zh=i.name_zh, name_en=i.name_en, unit=i.unit, accepted_units=convertible_units(i.unit),
            frequency=i.frequency, period_formats=_PERIOD_FORMATS[i.frequency], measures=list(i.measures),
            min_value=i.min_value, max_value=i.max_value,
        )
        for i in _runtime(request).catalogue.indicators.values()
    ]
