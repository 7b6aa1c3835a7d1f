"""The alerts service's HTTP API: alerts and the delivery log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from services.alerts.adapters.tables import alerts, delivery_attempts, notifications

router = APIRouter(prefix="/v1", tags=["alerts"])


class AlertOut(BaseModel):
    """An alert on a target."""

    id: str
    target_id: str
    status: str
    severity: str
    target_status: str
    period: str
    lead_department: str
    co_departments: list[str]
    message_zh: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class DeliveryOut(BaseModel):
    """A notification to one receiver and its delivery state."""

    id: int
    idempotency_key: str
    alert_id: str
    kind: str
    department: str
    channel: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class AttemptOut(BaseModel):
    """One delivery attempt."""

    attempt: int
    at: datetime
    outcome: str
    http_status: int | None
    error: str | None
    duration_ms: int


def _alert(row) -> AlertOut:  # type: ignore[no-untyped-def]
    m = dict(row._mapping)
    m["co_departments"] = [d for d in m["co_departments"].split(",") if d]
    return AlertOut.model_validate(m)


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts, newest first")
def list_alerts(
    request: Request,
    status: str | None = Query(default=None, pattern="^(firing|acknowledged|resolved)$"),
    department: str | None = Query(default=None, max_length=64, description="Lead or co-department id"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[AlertOut]:
    """Alerts filtered by status and department."""
    q = select(alerts).order_by(alerts.c.updated_at.desc()).limit(limit)
    if status:
        q = q.where(alerts.c.status == status)
    if department:
        q = q.where((alerts.c.lead_department == department) | alerts.c.co_departments.contains(department))
    with request.app.state.engine.connect() as conn:
        return [_alert(r) for r in conn.execute(q)]


@router.get("/alerts/{alert_id}", response_model=AlertOut, responses={404: {"description": "No such alert"}})
def get_alert(alert_id: str, request: Request) -> AlertOut:
    """One alert."""
    with request.app.state.engine.connect() as conn:
        row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    return _alert(row)


@router.get("/deliveries", response_model=list[DeliveryOut], summary="The delivery log")
def list_deliveries(
    request: Request,
    status: str | None = Query(default=None, pattern="^(pending|sent|failed|dead)$"),
    alert_id: str | None = Query(default=None, max_length=32),
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[DeliveryOut]:
    """Notifications and their delivery state, newest first."""
    n = notifications
    q = select(n).order_by(n.c.id.desc()).limit(limit)
    if status:
        q = q.where(n.c.status == status)
    if alert_id:
        q = q.where(n.c.alert_id == alert_id)
    with request.app.state.engine.connect() as conn:
        return [DeliveryOut.model_validate(r._mapping) for r in conn.execute(q)]


@router.get("/deliveries/{delivery_id}/attempts", response_model=list[AttemptOut])
def list_attempts(delivery_id: int, request: Request) -> list[AttemptOut]:
    """Every attempt to deliver one notification."""
    d = delivery_attempts
    with request.app.state.engine.connect() as conn:
        rows = conn.execute(select(d).where(d.c.notification_id == delivery_id).order_by(d.c.attempt)).all()
    return [AttemptOut.model_validate(r._mapping) for r in rows]
