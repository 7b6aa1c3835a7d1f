"""The evaluator's read API: where every target stands."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import select

from services.evaluator.adapters.tables import evaluations, target_states

router = APIRouter(prefix="/v1", tags=["targets"])


class TargetStatusOut(BaseModel):
    """A target with its current status (null fields when not evaluated yet)."""

    id: str
    section: str
    name_zh: str
    name_en: str
    kind: str
    value: float | None
    unit: str | None
    lead_department: str
    co_departments: list[str]
    period: str | None
    status: str | None
    severity: str | None
    updated_at: datetime | None
    message_zh: str | None


@router.get("/targets", response_model=list[TargetStatusOut], summary="The board: every target and its status")
def board(
    request: Request,
    department: str | None = Query(default=None, max_length=64, description="Lead or co-department id"),
    section: str | None = Query(default=None, max_length=16, description="headline or 1..9"),
) -> list[TargetStatusOut]:
    """Every target of the catalogue with its current status, optionally for one department or section."""
    catalogue = request.app.state.catalogue
    engine = request.app.state.engine
    with engine.connect() as conn:
        rows = conn.execute(
            select(target_states, evaluations.c.message_zh).join(
                evaluations, evaluations.c.id == target_states.c.evaluation_id
            )
        ).all()
    state = {r.target_id: r for r in rows}
    out = []
    for t in catalogue.targets.values():
        if department and department != t.lead_department and department not in t.co_departments:
            continue
        if section and section != t.section:
            continue
        s = state.get(t.id)
        out.append(TargetStatusOut(
            id=t.id, section=t.section, name_zh=t.name_zh, name_en=t.name_en, kind=t.kind.value, value=t.value,
            unit=t.unit, lead_department=t.lead_department, co_departments=list(t.co_departments),
            period=s.period if s else None, status=s.status if s else None, severity=s.severity if s else None,
            updated_at=s.updated_at if s else None, message_zh=s.message_zh if s else None,
        ))
    return out
