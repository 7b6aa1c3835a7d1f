"""The operator's routes (/admin): issue, list and revoke API keys, replay observations.

Mounted only when INGEST_ADMIN_TOKEN is set, and authenticated with that token alone: a bureau's key never
reaches them, so no organisation can read another's keys.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from services.ingest.adapters.store import WriteConflict
from services.ingest.api.auth import admin
from services.ingest.api.routes import key_info
from services.ingest.api.schemas import IssuedKey, KeyInfo, KeyIssueIn, ReplayAccepted, ReplayIn
from services.ingest.domain.observations import period_hint_zh
from services.ingest.service import replay_observations
from services.ingest.wiring import IngestWiring, wiring
from shared.periods import Period, PeriodError
from shared.problems import Failure, Problem, ProblemDetail
from shared.regions import REGIONS

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ProblemDetail, "description": "No admin token, or a wrong one"},
    413: {"model": ProblemDetail, "description": "Request body larger than INGEST_MAX_BODY_BYTES"},
    422: {"model": ProblemDetail, "description": "Invalid request: every field and rule"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ProblemDetail, "description": "No such key"}}
router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(admin)], responses=_ERRORS)
_KEY_ID = Path(min_length=1, max_length=32, description="The key's id (key_…)", examples=["key_3fa2c1d09b7e"])


def _unknown_indicator(i: int, ind: str) -> Failure:
    return Failure(("body", "indicators", i), "unknown_indicator", f"unknown indicator {ind!r}", f"未知指标“{ind}”")


def check_scope(rt: IngestWiring, indicators: list[str] | None, regions: list[str] | None) -> None:
    """Refuse a scope naming an indicator or region that does not exist (422, each one named)."""
    problems = [_unknown_indicator(i, ind) for i, ind in enumerate(indicators or [])
                if ind not in rt.catalogue.indicators]
    problems += [Failure(("body", "regions", i), "unknown_region", f"unknown region {reg!r}; one of "
                         f"{', '.join(REGIONS)}", f"未知地区“{reg}”；应为以下之一：{'、'.join(REGIONS)}")
                 for i, reg in enumerate(regions or []) if reg not in REGIONS]
    if problems:
        raise Problem(422, problems)


def _no_key(key_id: str) -> Problem:
    return Problem.of(404, "unknown_key", f"no key {key_id!r}", f"没有编号为“{key_id}”的密钥", loc=("path", "key_id"))


@router.post("/keys", response_model=IssuedKey, status_code=201, summary="Issue an API key")
def issue(body: KeyIssueIn, rt: IngestWiring = Depends(wiring)) -> IssuedKey:
    """Issue a key for an organisation, limited to indicators and regions; the key is shown only in this answer."""
    check_scope(rt, body.indicators, body.regions)
    for attempt in range(3):
        try:
            with rt.store.transaction() as tx:
                key, secret = tx.keys.issue(organisation=body.organisation, indicators=body.indicators,
                                            regions=body.regions, description=body.description, now=rt.clock())
            break
        except WriteConflict:  # an id collision (48 random bits): draw again
            if attempt == 2:
                raise
    return IssuedKey(**key_info(key).model_dump(), key=secret)


@router.get("/keys", response_model=list[KeyInfo], summary="List API keys (never the keys themselves)")
def list_all(rt: IngestWiring = Depends(wiring)) -> list[KeyInfo]:
    """Every key issued, revoked ones included, oldest first."""
    with rt.store.reading() as reads:
        return [key_info(k) for k in reads.keys.list()]


@router.get("/keys/{key_id}", response_model=KeyInfo, summary="One API key", responses=_NOT_FOUND)
def show(key_id: str = _KEY_ID, rt: IngestWiring = Depends(wiring)) -> KeyInfo:
    """One key by its id."""
    with rt.store.reading() as reads:
        key = reads.keys.get(key_id)
    if key is None:
        raise _no_key(key_id)
    return key_info(key)


@router.post("/keys/{key_id}/revoke", response_model=KeyInfo, summary="Revoke an API key", responses=_NOT_FOUND)
def revoke(key_id: str = _KEY_ID, rt: IngestWiring = Depends(wiring)) -> KeyInfo:
    """Revoke a key: refused at once by this process, within INGEST_API_KEY_CACHE_TTL_S by the others."""
    with rt.store.transaction() as tx:
        key = tx.keys.revoke(key_id, rt.clock())
    if key is None:
        raise _no_key(key_id)
    rt.keys.invalidate()
    return key_info(key)


@router.post("/replay", response_model=ReplayAccepted, status_code=202,
             summary="Publish the current observations of a period range again")
def replay(body: ReplayIn, rt: IngestWiring = Depends(wiring)) -> ReplayAccepted:
    """Queue the current vintage of every series in the period range as ObservationRecorded events with
    replayed=true and new event ids, so downstream services can rebuild after the broker lost its data."""
    periods: list[Period] = []
    problems: list[Failure] = []
    for name in ("from_period", "to_period"):
        raw = getattr(body, name)
        try:
            periods.append(Period.parse(raw))
        except PeriodError as exc:
            problems.append(Failure(("body", name), "period_format", str(exc), period_hint_zh(raw)))
    if not problems and periods[1].end_date() < periods[0].end_date():
        problems.append(Failure(("body", "to_period"), "period_order", f"{body.to_period} ends before "
                                f"{body.from_period}", f"{body.to_period}早于{body.from_period}结束"))
    problems += [_unknown_indicator(i, ind) for i, ind in enumerate(body.indicators or [])
                 if ind not in rt.catalogue.indicators]
    if problems:
        raise Problem(422, problems)
    with rt.store.transaction() as tx:
        n = replay_observations(tx.observations, tx.events, first=periods[0], last=periods[1],
                                indicators=body.indicators, now=rt.clock())
    rt.relay.wake()
    return ReplayAccepted(events=n)
