"""The parts of a FastAPI app every service has: /metrics, health probes, request metrics, JSON errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from shared.health import Check, health_router
from shared.metrics import CommonMetrics, http_metrics_middleware


def build_app(
    *,
    title: str,
    description: str,
    metrics: CommonMetrics,
    checks: dict[str, Check],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    version: str = "1.0.0",
) -> FastAPI:
    """A FastAPI app with the operations routes every service exposes."""
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    _document_body_errors(app)
    app.middleware("http")(http_metrics_middleware(metrics))
    app.include_router(health_router(checks))

    # A route, not a mounted app: a mount answers /metrics with a redirect to /metrics/.
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _document_body_errors(app: FastAPI) -> None:
    """Every operation with a body documents the 400 FastAPI answers when the body is not parseable JSON."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            for ops in doc.get("paths", {}).values():
                for op in ops.values():
                    if isinstance(op, dict) and "requestBody" in op:
                        op.setdefault("responses", {}).setdefault(
                            "400", {"description": "The body could not be parsed (not JSON, or not UTF-8)"})
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def serve(app_factory: Callable[[], Any], *, host: str, port: int, name: str) -> None:
    """Run a service's app with uvicorn (uvloop and httptools), overriding host and port from the CLI."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args()
    # log_config=None: uvicorn's loggers go through the service's own (JSON) handler, shared/runtime.py.
    uvicorn.run(app_factory(), host=args.host, port=args.port, log_level="warning", access_log=False, log_config=None,
                loop="uvloop", http="httptools", timeout_graceful_shutdown=5)
