"""The parts of a FastAPI app every service has: /metrics, health probes, request metrics, a body size limit,
and one error contract (problem details, shared/problems.py)."""

from __future__ import annotations

import argparse
import gc
import sys
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, get_args, get_origin

import uvicorn
from fastapi import Depends, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from shared import problems
from shared.errors import ConfigurationError
from shared.health import Check, health_router
from shared.limits import BodySizeLimit, RefuseNul
from shared.metrics import CommonMetrics, HttpMetrics
from shared.runtime import exit_process_on_fatal
from shared.settings import ServiceSettings

DEFAULT_MAX_BODY_BYTES = ServiceSettings.model_fields["max_body_bytes"].default


def build_app(
    *,
    title: str,
    description: str,
    metrics: CommonMetrics,
    checks: dict[str, Check],
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    version: str = "1.0.0",
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    domain_errors: problems.DomainErrors | None = None,
    on_problem: Callable[[problems.Problem], None] | None = None,
    invalid_json_status: int = 400,
    refuse_nul: bool = True,
) -> FastAPI:
    """A FastAPI app with the operations routes, the body limit and the error contract every service has.

    ``domain_errors`` maps a service's domain exceptions to problems; ``on_problem`` sees every error answer;
    ``refuse_nul`` refuses NUL characters in requests (off for a service that checks each field itself).
    """
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan,
                  dependencies=[Depends(single_valued_query)])
    _document_problems(app)
    problems.install(app, domain_errors=domain_errors, on_problem=on_problem,
                     invalid_json_status=invalid_json_status)
    # Inside the metrics middleware, so that refused bodies are counted; the limit outside the NUL check.
    if refuse_nul:
        app.add_middleware(RefuseNul)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(HttpMetrics, metrics=metrics)
    app.include_router(health_router(checks))

    # A route, not a mounted app: a mount answers /metrics with a redirect to /metrics/.
    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return any(_is_list(a) for a in get_args(annotation)) if origin is not None else False


def single_valued_query(request: Request) -> None:
    """Refuse a query parameter given twice when the operation takes one value (422, in Chinese too).

    Starlette keeps every value and FastAPI silently reads the last, so ``?region=jiangyin&region=yixing``
    would answer for 宜兴 without a word: the caller meant something the API does not do.
    """
    repeated = {k for k, n in Counter(k for k, _ in request.query_params.multi_items()).items() if n > 1}
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if not repeated or dependant is None:
        return
    for field in _query_fields(dependant):
        if field.alias in repeated and not _is_list(field.field_info.annotation):
            raise problems.Problem.of(
                422, "repeated_parameter", f"query parameter {field.alias!r} takes one value, not several",
                f"查询参数“{field.alias}”只能给一个值，不能重复", loc=("query", field.alias))


def _query_fields(dependant: Any) -> list[Any]:
    fields = list(dependant.query_params)
    for sub in dependant.dependencies:
        fields += _query_fields(sub)
    return fields


def _document_problems(app: FastAPI) -> None:
    """Every documented 4xx and 5xx answer of the OpenAPI document is problem details (shared/problems.py)."""
    extend_openapi(app, problems.document)


def extend_openapi(app: FastAPI, extend: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Pass the app's OpenAPI document, once built, through ``extend`` (which may change it in place)."""
    build = app.openapi
    extended = False

    def openapi() -> dict[str, Any]:
        nonlocal extended
        if app.openapi_schema is None or not extended:
            app.openapi_schema = extend(build())
            extended = True
        return app.openapi_schema

    # Replacing the method is FastAPI's documented way to customise the document; mypy sees a method assigned.
    app.openapi = openapi  # type: ignore[method-assign]


def run(settings_factory: Callable[[], Any], create_app: Callable[[Any], Any], *, name: str) -> None:
    """``python -m services.<name>``: read the settings, build the app, serve it. Settings or data files that cannot
    be used (pydantic's validation, ``ConfigurationError``) end the process with status 2 and a message naming
    what is wrong, not a traceback; anything else is a bug and keeps its traceback."""
    try:
        settings = settings_factory()
        app = create_app(settings)
    except (ValidationError, ConfigurationError) as exc:
        print(f"{name}: 配置有误，服务未启动 / refused to start, configuration is not usable:\n{exc}", file=sys.stderr)
        sys.exit(2)
    tune_gc()
    serve(lambda: app, host=settings.host, port=settings.port, name=name)


# Garbage collection for a process that allocates a few hundred objects per message: the first generation is
# collected every 20,000 allocations instead of 700, and the second and third generations after 50 and 100 of
# the one before instead of 10 each. Cyclic garbage waits a little longer (a few MB at most); what pays is fewer
# of the collector's walks over everything alive (the gains measured are in tune_gc's docstring).
GC_THRESHOLDS = (20_000, 50, 100)


def tune_gc() -> None:
    """Move what start-up made (modules, catalogues, the app) out of the collector's walks, and collect less often.

    ``gc.freeze()`` puts every object alive now in a permanent generation that collections no longer traverse.
    Measured on the benchmarks (docs/benchmarks.md, issue 12 round 5): the alerts burst +12%, the evaluator
    +16 to 33%, single POSTs to ingest +44%; peak RSS within 4 MB, alerts' with 5,000 open alerts up to 8 MB more.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def serve(app_factory: Callable[[], Any], *, host: str, port: int, name: str) -> None:
    """Run a service's app with uvicorn (uvloop and httptools), overriding host and port from the CLI.

    A background loop stopped by a bug ends the process with a non-zero status (shared/runtime.py).
    """
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    args = parser.parse_args()
    # log_config=None: uvicorn's loggers go through the service's own (JSON) handler, shared/runtime.py.
    server = uvicorn.Server(uvicorn.Config(app_factory(), host=args.host, port=args.port, log_level="warning",
                                           access_log=False, log_config=None, loop="uvloop", http="httptools",
                                           timeout_graceful_shutdown=5))
    fatal = exit_process_on_fatal(server)
    server.run()
    if fatal.status is not None:
        sys.exit(fatal.status)
