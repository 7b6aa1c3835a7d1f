"""The operator's routes (/admin): issue, list and revoke API keys, replay observations.

Mounted only when INGEST_ADMIN_TOKEN is set, and authenticated with that token alone: a bureau's key never
reaches them, so no organisation can read another's keys.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.exc import IntegrityError

from services.ingest.adapters.keys import get_key, issue_key, list_keys, revoke_key
from services.ingest.api.auth import admin
from services.ingest.api.errors import ApiError
from services.ingest.api.routes import key_info
from services.ingest.api.schemas import IssuedKey, KeyInfo, KeyIssueIn, ReplayAccepted, ReplayIn, ValidationErrorOut
from services.ingest.domain.observations import REGIONS
from services.ingest.runtime import IngestRuntime
from services.ingest.service import replay_observations
from shared.periods import Period, PeriodError

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ValidationErrorOut, "description": "No admin token, or a wrong one"},
    413: {"model": ValidationErrorOut, "description": "Request body larger than INGEST_MAX_BODY_BYTES"},
    422: {"model": ValidationErrorOut, "description": "Invalid request: every field and rule"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ValidationErrorOut, "description": "No such key"}}
router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(admin)], responses=_ERRORS)
_KEY_ID = Path(min_length=1, max_length=32, description="The key's id (key_…)", examples=["key_3fa2c1d09b7e"])


def _runtime(request: Request) -> IngestRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def check_scope(rt: IngestRuntime, indicators: list[str] | None, regions: list[str] | None) -> None:
    """Refuse a scope naming an indicator or region that does not exist (422, each one named)."""
    problems: list[tuple[list[str | int], str, str]] = []
    for i, ind in enumerate(indicators or []):
        if ind not in rt.catalogue.indicators:
            problems.append((["body", "indicators", i], f"unknown indicator {ind!r}", "unknown_indicator"))
    for i, reg in enumerate(regions or []):
        if reg not in REGIONS:
            problems.append((["body", "regions", i], f"unknown region {reg!r}; one of {', '.join(REGIONS)}",
                             "unknown_region"))
    if problems:
        raise ApiError(422, problems)


@router.post("/keys", response_model=IssuedKey, status_code=201, summary="Issue an API key")
def issue(body: KeyIssueIn, request: Request) -> IssuedKey:
    """Issue a key for an organisation, limited to indicators and regions; the key is shown only in this answer."""
    rt = _runtime(request)
    check_scope(rt, body.indicators, body.regions)
    for _ in range(3):
        try:
            with rt.engine.begin() as conn:
                key, secret = issue_key(conn, organisation=body.organisation, indicators=body.indicators,
                                        regions=body.regions, description=body.description, now=rt.clock())
            break
        except IntegrityError:  # an id collision (48 random bits): draw again
            continue
    return IssuedKey(**key_info(key).model_dump(), key=secret)


@router.get("/keys", response_model=list[KeyInfo], summary="List API keys (never the keys themselves)")
def list_all(request: Request) -> list[KeyInfo]:
    """Every key issued, revoked ones included, oldest first."""
    with _runtime(request).engine.connect() as conn:
        return [key_info(k) for k in list_keys(conn)]


@router.get("/keys/{key_id}", response_model=KeyInfo, summary="One API key", responses=_NOT_FOUND)
def show(request: Request, key_id: str = _KEY_ID) -> KeyInfo:
    """One key by its id."""
    with _runtime(request).engine.connect() as conn:
        key = get_key(conn, key_id)
    if key is None:
        raise ApiError.one(404, ["path", "key_id"], f"no key {key_id!r}", "unknown_key")
    return key_info(key)


@router.post("/keys/{key_id}/revoke", response_model=KeyInfo, summary="Revoke an API key", responses=_NOT_FOUND)
def revoke(request: Request, key_id: str = _KEY_ID) -> KeyInfo:
    """Revoke a key: refused at once by this process, within INGEST_API_KEY_CACHE_TTL_S by the others."""
    rt = _runtime(request)
    with rt.engine.begin() as conn:
        key = revoke_key(conn, key_id, rt.clock())
    if key is None:
        raise ApiError.one(404, ["path", "key_id"], f"no key {key_id!r}", "unknown_key")
    rt.keys.invalidate()
    return key_info(key)


@router.post("/replay", response_model=ReplayAccepted, status_code=202,
             summary="Publish the current observations of a period range again")
def replay(body: ReplayIn, request: Request) -> ReplayAccepted:
    """Queue the current vintage of every series in the period range as ObservationRecorded events with
    replayed=true and new event ids, so downstream services can rebuild after the broker lost its data."""
    rt = _runtime(request)
    periods: list[Period] = []
    problems: list[tuple[list[str | int], str, str]] = []
    for name in ("from_period", "to_period"):
        try:
            periods.append(Period.parse(getattr(body, name)))
        except PeriodError as exc:
            problems.append((["body", name], str(exc), "period_format"))
    if not problems and periods[1].end_date() < periods[0].end_date():
        problems.append((["body", "to_period"], f"{body.to_period} ends before {body.from_period}", "period_order"))
    for i, ind in enumerate(body.indicators or []):
        if ind not in rt.catalogue.indicators:
            problems.append((["body", "indicators", i], f"unknown indicator {ind!r}", "unknown_indicator"))
    if problems:
        raise ApiError(422, problems)
    with rt.engine.begin() as conn:
        n = replay_observations(conn, rt.outbox, first=periods[0], last=periods[1], indicators=body.indicators,
                                now=rt.clock())
    rt.relay.wake()
    return ReplayAccepted(events=n)
