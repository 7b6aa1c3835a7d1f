"""/healthz (the process is alive) and /readyz (its database and the broker are reachable).

/readyz names each failing check but never answers its exception's text (which can hold host names, SQL
or file paths); the text goes to the log, once per change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

log = logging.getLogger(__name__)

Check = Callable[[], None]  # raises when the dependency is not usable


class Health(BaseModel):
    """Result of a health probe."""

    status: str
    checks: dict[str, str] = {}


def health_router(checks: dict[str, Check]) -> APIRouter:
    """Routes for the liveness and readiness probes; ``checks`` run on each /readyz."""
    router = APIRouter(tags=["operations"])
    last_reason: dict[str, str] = {}

    @router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
    def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        response_model=Health,
        summary="Readiness: the database and the broker are reachable, background loops are running",
        responses={503: {"model": Health, "description": "A dependency is not reachable",
                          "x-not-a-problem": True}},
    )
    def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        ok = True
        for name, check in checks.items():
            try:
                check()
                results[name] = "ok"
                last_reason.pop(name, None)
            except Exception as exc:
                ok = False
                results[name] = "failing"
                reason = f"{type(exc).__name__}: {exc}"[:500]
                if last_reason.get(name) != reason:
                    log.warning("readiness check %s failing: %s", name, reason)
                    last_reason[name] = reason
        body = Health(status="ok" if ok else "unavailable", checks=results)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    return router
