"""The alerts service's HTTP API: alerts and acknowledgement, silences, the delivery log, dead letters, the directory.

Every operation needs a bearer token with the scope it names (api/auth.py): reads ``read``, writes
``acknowledge``, ``silence`` or ``resend``. The signed acknowledgement link (api/ack.py) is its own credential.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.alerts import service
from services.alerts.api.auth import (
    AUTH_RESPONSES,
    require_acknowledge,
    require_read,
    require_resend,
    require_silence,
)
from services.alerts.runtime import runtime

# A database id: bounded, so a huge number is a 422, not an integer overflow in the database driver.
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]

router = APIRouter(prefix="/v1", tags=["alerts"], responses=AUTH_RESPONSES)


class AlertOut(BaseModel):
    """An alert on a target."""

    id: str
    target_id: str
    status: str
    severity: str
    target_status: str
    period: str
    section: str
    lead_department: str
    co_departments: list[str]
    message_zh: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_explanation: str | None
    ack_measures: str | None
    escalation_level: int


class DeliveryOut(BaseModel):
    """A notification to one receiver and its delivery state."""

    id: int
    idempotency_key: str
    alert_id: str
    alert_ids: list[str]
    kind: str
    department: str
    channel: str
    receiver: str
    status: str
    attempts: int
    last_error: str | None
    silence_id: str | None
    inhibited_by: str | None = Field(default=None, description="status inhibited: the open alert that held it back")
    inhibit_rule: str | None = Field(default=None, description="status inhibited: through which inhibition rule")
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime


class AttemptOut(BaseModel):
    """One delivery attempt."""

    attempt: int
    at: datetime
    outcome: str
    http_status: int | None
    error: str | None
    duration_ms: int


class AcknowledgeIn(BaseModel):
    """The department's written explanation and its 整改措施."""

    model_config = ConfigDict(extra="forbid")

    explanation: str = Field(min_length=2, max_length=5000, description="原因说明")
    measures: str = Field(min_length=2, max_length=5000, description="整改措施 (who acknowledged is the token's name)")


class SilenceIn(BaseModel):
    """A silence: at least one matcher, a period, an owner and a reason."""

    model_config = ConfigDict(extra="forbid")

    target_id: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, pattern="^(warning|critical)$")
    starts_at: datetime | None = Field(default=None, description="Now when omitted")
    ends_at: datetime | None = None
    duration_minutes: float | None = Field(default=None, gt=0, le=366 * 24 * 60, description="Instead of ends_at")
    owner: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=2, max_length=2000)

    @model_validator(mode="after")
    def _complete(self) -> SilenceIn:
        if not (self.target_id or self.department or self.severity):
            raise ValueError("give at least one of target_id, department, severity (a silence muting "
                             "everything is refused)")
        if (self.ends_at is None) == (self.duration_minutes is None):
            raise ValueError("give exactly one of ends_at, duration_minutes")
        for f in ("starts_at", "ends_at"):
            v = getattr(self, f)
            if v is not None and v.tzinfo is None:
                raise ValueError(f"{f}: give a time zone (e.g. 2024-07-01T09:00:00+08:00)")
        return self


class SilenceOut(BaseModel):
    """A silence and whether it holds now."""

    id: str
    target_id: str | None
    department: str | None
    severity: str | None
    starts_at: datetime
    ends_at: datetime
    owner: str
    reason: str
    created_by: str
    created_at: datetime
    active: bool


def _now(request: Request) -> datetime:
    return runtime(request).clock()


def _alert(row: Any) -> AlertOut:
    m = dict(row._mapping)
    m["co_departments"] = [d for d in m["co_departments"].split(",") if d]
    return AlertOut.model_validate(m)


def _delivery(row: Any) -> DeliveryOut:
    m = dict(row._mapping)
    m["alert_ids"] = [a for a in (m.get("alert_ids") or m["alert_id"]).split(",") if a]
    return DeliveryOut.model_validate(m)


def _silence(row: Any, now: datetime) -> SilenceOut:
    m = dict(row._mapping)
    s, e = m["starts_at"], m["ends_at"]
    m.update(starts_at=s, ends_at=e, active=s <= now < e)
    return SilenceOut.model_validate(m)


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts, newest first")
def list_alerts(
    request: Request,
    status: str | None = Query(default=None, pattern="^(firing|acknowledged|resolved|open)$",
                               description="open = firing or acknowledged"),
    department: str | None = Query(default=None, max_length=64, description="Lead or co-department id"),
    severity: str | None = Query(default=None, pattern="^(warning|critical)$"),
    limit: int = Query(default=100, ge=1, le=1000),
    _: str = Depends(require_read),
) -> list[AlertOut]:
    """Alerts filtered by status, department and severity."""
    with runtime(request).db.read() as repos:
        rows = repos.alerts.search(status=status, department=department, severity=severity, limit=limit)
    return [_alert(r) for r in rows]


@router.get("/alerts/{alert_id}", response_model=AlertOut, responses={404: {"description": "No such alert"}})
def get_alert(alert_id: str, request: Request, _: str = Depends(require_read)) -> AlertOut:
    """One alert."""
    with runtime(request).db.read() as repos:
        row = repos.alerts.get(alert_id)
    if row is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    return _alert(row)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut,
             responses={401: {}, 404: {}, 409: {"description": "The alert is resolved"}})
def acknowledge_alert(alert_id: str, body: AcknowledgeIn, request: Request,
                      token: str = Depends(require_acknowledge)) -> AlertOut:
    """firing → acknowledged, with the explanation and 整改措施 (stops reminders and escalation)."""
    try:
        with runtime(request).db.transaction() as repos:
            row = service.acknowledge(repos, alert_id, by=token, explanation=body.explanation,
                                      measures=body.measures, now=_now(request))
    except service.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except service.Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    return _alert(row)


@router.get("/silences", response_model=list[SilenceOut], summary="Silences, newest first")
def list_silences(request: Request, active: bool | None = Query(default=None),
                  limit: int = Query(default=100, ge=1, le=1000), _: str = Depends(require_read)) -> list[SilenceOut]:
    """Silences, optionally only those in force (or not) now."""
    now = _now(request)
    with runtime(request).db.read() as repos:
        rows = repos.silences.search(active=active, now=now, limit=limit)
    return [_silence(r, now) for r in rows]


@router.post("/silences", response_model=SilenceOut, status_code=201, responses={401: {}, 422: {}})
def create_silence(body: SilenceIn, request: Request, token: str = Depends(require_silence)) -> SilenceOut:
    """Mute notifications by target, department or severity for a period (queued ones too); it expires by itself."""
    rt = runtime(request)
    catalogue = rt.catalogue
    if body.target_id and body.target_id not in catalogue.targets:
        raise HTTPException(422, f"field 'target_id': {body.target_id!r} is not a target of the catalogue")
    if body.department and body.department not in catalogue.departments:
        raise HTTPException(422, f"field 'department': {body.department!r} is not a department of the catalogue")
    now = _now(request)
    starts = body.starts_at or now
    ends = body.ends_at or starts + timedelta(minutes=body.duration_minutes or 0)
    if ends <= starts:
        raise HTTPException(422, "field 'ends_at': must be after starts_at")
    with rt.db.transaction() as repos:
        row = service.create_silence(repos, target_id=body.target_id, department=body.department,
                                     severity=body.severity, starts_at=starts, ends_at=ends, owner=body.owner,
                                     reason=body.reason, created_by=token, now=now)
    rt.wake_dispatcher()  # it re-reads silences before sending what is queued
    return _silence(row, now)


@router.get("/silences/{silence_id}", response_model=SilenceOut, responses={404: {}})
def get_silence(silence_id: str, request: Request, _: str = Depends(require_read)) -> SilenceOut:
    """One silence."""
    with runtime(request).db.read() as repos:
        row = repos.silences.get(silence_id)
    if row is None:
        raise HTTPException(404, f"no silence {silence_id!r}")
    return _silence(row, _now(request))


@router.delete("/silences/{silence_id}", response_model=SilenceOut, responses={401: {}, 404: {}})
def expire_silence(silence_id: str, request: Request, token: str = Depends(require_silence)) -> SilenceOut:
    """Expire a silence now (it stays listed)."""
    now = _now(request)
    try:
        with runtime(request).db.transaction() as repos:
            row = service.expire_silence(repos, silence_id, now)
    except service.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return _silence(row, now)


@router.get("/deliveries", response_model=list[DeliveryOut], summary="The delivery log")
def list_deliveries(
    request: Request,
    status: str | None = Query(default=None, pattern="^(pending|sent|failed|dead|suppressed|inhibited|uncertain)$"),
    alert_id: str | None = Query(default=None, max_length=32),
    department: str | None = Query(default=None, max_length=64),
    channel: str | None = Query(default=None, pattern="^(webhook|wecom|dingtalk|feishu|email)$"),
    limit: int = Query(default=100, ge=1, le=1000),
    _: str = Depends(require_read),
) -> list[DeliveryOut]:
    """Notifications and their delivery state, newest first."""
    with runtime(request).db.read() as repos:
        rows = repos.notifications.search(status=status, alert_id=alert_id, department=department, channel=channel,
                                          limit=limit)
    return [_delivery(r) for r in rows]


@router.get("/deliveries/{delivery_id}/attempts", response_model=list[AttemptOut])
def list_attempts(delivery_id: DeliveryId, request: Request, _: str = Depends(require_read)) -> list[AttemptOut]:
    """Every attempt to deliver one notification (the delivery log)."""
    with runtime(request).db.read() as repos:
        rows = repos.notifications.attempts(delivery_id)
    return [AttemptOut.model_validate(r._mapping) for r in rows]


@router.get("/dead-letters", response_model=list[DeliveryOut], summary="Notifications given up on")
def list_dead_letters(request: Request, limit: int = Query(default=100, ge=1, le=1000),
                      _: str = Depends(require_read)) -> list[DeliveryOut]:
    """Dead notifications (retry budget spent), newest first; each was also published to the .dlq topic."""
    with runtime(request).db.read() as repos:
        rows = repos.notifications.search(status="dead", alert_id=None, department=None, channel=None, limit=limit)
    return [_delivery(r) for r in rows]


@router.post("/dead-letters/{delivery_id}/resend", response_model=DeliveryOut, responses={401: {}, 404: {}, 409: {}})
def resend_dead_letter(delivery_id: DeliveryId, request: Request,
                       token: str = Depends(require_resend)) -> DeliveryOut:
    """Queue a dead, failed or uncertain notification again, with the same Idempotency-Key and a fresh budget."""
    try:
        with runtime(request).db.transaction() as repos:
            row = service.resend(repos, delivery_id, by=token, now=_now(request))
    except service.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except service.Conflict as exc:
        raise HTTPException(409, str(exc)) from None
    runtime(request).wake_dispatcher()
    return _delivery(row)


@router.get("/directory", summary="The department directory: contacts and channels")
def list_directory(request: Request, _: str = Depends(require_read)) -> list[dict[str, Any]]:
    """Every department of the catalogue with its contacts and channels (variable names, configured or not)."""
    return [_department(request, d) for d in runtime(request).catalogue.departments]


@router.get("/directory/{department_id}", responses={404: {}})
def get_department(department_id: str, request: Request, _: str = Depends(require_read)) -> dict[str, Any]:
    """One department's directory entry."""
    if department_id not in runtime(request).catalogue.departments:
        raise HTTPException(404, f"no department {department_id!r}")
    return _department(request, department_id)


@router.get("/routing", summary="The routing rules in force")
def get_routing(request: Request, _: str = Depends(require_read)) -> dict[str, Any]:
    """The routing file as loaded, inhibition rules included."""
    return runtime(request).routing.as_doc()


def _department(request: Request, dept_id: str) -> dict[str, Any]:
    rt = runtime(request)
    dep = rt.catalogue.departments[dept_id]
    entry = rt.directory.entries.get(dept_id)
    return {
        "id": dep.id, "name_zh": dep.name_zh, "name_en": dep.name_en, "parent": dep.parent,
        "contacts": [c.model_dump() for c in entry.contacts] if entry else [],
        "channels": rt.receivers.describe(dept_id),
    }
