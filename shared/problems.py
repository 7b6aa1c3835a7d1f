"""One error contract for every service: RFC 9457 problem details (``application/problem+json``), in Chinese first.

Every error answer has ``type`` (a URN naming the problem), ``title`` and ``detail`` in Chinese (``title_en``
and ``detail_en`` in English), ``status``, and ``errors[]``: each with ``loc`` (where: ``["body", "value"]``,
``["query", "indicator"]``, ``["header", "Authorization"]``), ``type`` (the rule), ``msg`` (English) and
``msg_zh`` (Chinese). A route raises :class:`Problem`; :func:`install` maps to it, once per app, the domain
errors a service registers, pydantic's validation errors (translated, shared/problems_zh.py), Starlette's
HTTPException (a generic Chinese text per status), transient database failures (503) and anything else
(500, without the exception's text).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared.failures import TRANSIENT, describe
from shared.problems_zh import STATUS_TITLES, translate

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:wuxi-targets:problem:"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Failure:
    """One item of a problem's ``errors[]``: where, which rule, and the message in English and Chinese."""

    loc: Loc
    type: str
    msg: str
    msg_zh: str


class Problem(Exception):
    """An error answer: raise it from a route (or map a domain error to it) and the handler renders it.

    ``Problem.of(404, "unknown_target", "no target 'x'", "没有编号为 x 的目标", loc=("path", "target_id"))``
    """

    def __init__(self, status: int, errors: Sequence[Failure] = (), *, code: str | None = None,
                 title_zh: str | None = None, title: str | None = None, detail_zh: str | None = None,
                 detail: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.errors = list(errors)
        default_zh, default_en = STATUS_TITLES.get(status, STATUS_TITLES[500 if status >= 500 else 400])
        kinds = {e.type for e in self.errors}
        self.code = code or (kinds.pop() if len(kinds) == 1 else _status_code(status))
        self.title_zh = title_zh or default_zh
        self.title = title or default_en
        self.detail_zh = detail_zh or _summary([e.msg_zh for e in self.errors], "；", default_zh)
        self.detail = detail or _summary([e.msg for e in self.errors], "; ", default_en)
        self.headers = dict(headers or {})
        super().__init__(f"{status} {self.code}: {self.detail}")

    @classmethod
    def of(cls, status: int, rule: str, msg: str, msg_zh: str, *, loc: Loc = (),
           headers: Mapping[str, str] | None = None) -> Problem:
        """A problem with one error."""
        return cls(status, [Failure(loc, rule, msg, msg_zh)], headers=headers)

    def body(self) -> dict[str, Any]:
        """The problem details object."""
        return {
            "type": TYPE_PREFIX + self.code, "title": self.title_zh, "status": self.status,
            "detail": self.detail_zh, "title_en": self.title, "detail_en": self.detail,
            "errors": [{"loc": list(e.loc), "type": e.type, "msg": e.msg, "msg_zh": e.msg_zh} for e in self.errors],
        }

    def response(self) -> JSONResponse:
        """The HTTP answer."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers, media_type=PROBLEM_JSON)


class HTTPProblem(HTTPException):
    """A problem raised where only an HTTPException passes (FastAPI re-raises those while reading a body)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.status, problem.detail, problem.headers)
        self.problem = problem


class ErrorItem(BaseModel):
    """One rejected field or rule."""

    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field (and row)")
    type: str = Field(description="The rule broken, e.g. plausible_range, string_too_long, unknown_api_key")
    msg: str = Field(description="The message in English")
    msg_zh: str = Field(description="The message in Chinese")


class ProblemDetail(BaseModel):
    """An error answer (RFC 9457 problem details, application/problem+json)."""

    type: str = Field(description="A URN naming the problem", examples=[TYPE_PREFIX + "plausible_range"])
    title: str = Field(description="What went wrong, in Chinese", examples=["请求内容有误"])
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="This occurrence, in Chinese")
    title_en: str = Field(description="The title in English")
    detail_en: str = Field(description="The detail in English")
    errors: list[ErrorItem] = Field(description="Every field and rule at fault (may be empty)")


def validation_failures(errors: Iterable[ErrorDetails | Mapping[str, Any]], prefix: Loc = ()) -> list[Failure]:
    """Pydantic's errors as failures, with a Chinese message per error type."""
    out = []
    for e in errors:
        loc = (*prefix, *e["loc"])
        out.append(Failure(loc, e["type"], e["msg"], translate(e["type"], e.get("ctx") or {}, e["msg"])))
    return out


DomainErrors = Mapping[type[Exception], Callable[[Any], Problem]]


def install(app: FastAPI, *, domain_errors: DomainErrors | None = None,
            on_problem: Callable[[Problem], None] | None = None, invalid_json_status: int = 400) -> None:
    """Answer every error of ``app`` as problem details; ``on_problem`` sees each (e.g. to count rejections)."""

    def answer(problem: Problem) -> Response:
        if on_problem is not None:
            on_problem(problem)
        return problem.response()

    async def problem_handler(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return answer(exc)

    async def validation_handler(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        failures = validation_failures(exc.errors())
        status = invalid_json_status if failures and all(f.type == "json_invalid" for f in failures) else 422
        return answer(Problem(status, failures))

    async def http_handler(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return answer(from_http_exception(exc, invalid_json_status))

    async def transient_handler(_: Request, exc: Exception) -> Response:
        log.warning("answering 503: %s", describe(exc))
        return answer(Problem.of(503, "dependency_unavailable", "the database or the broker is busy or away; "
                                 "retry shortly", "数据库或消息服务繁忙或暂不可用，请稍后重试",
                                 headers={"Retry-After": "1"}))

    async def bug_handler(_: Request, exc: Exception) -> Response:
        # Logged by Starlette's ServerErrorMiddleware, which re-raises after this answer; never echoed.
        return answer(Problem(500, code="internal_error"))

    app.add_exception_handler(Problem, problem_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(HTTPException, http_handler)
    for cls in TRANSIENT:
        app.add_exception_handler(cls, transient_handler)
    for cls, to_problem in (domain_errors or {}).items():
        app.add_exception_handler(cls, _domain_handler(to_problem, answer))
    app.add_exception_handler(Exception, bug_handler)


def _domain_handler(to_problem: Callable[[Any], Problem],
                    answer: Callable[[Problem], Response]) -> Callable[[Request, Exception], Any]:
    async def handler(_: Request, exc: Exception) -> Response:
        return answer(to_problem(exc))

    return handler


def from_http_exception(exc: HTTPException, invalid_json_status: int = 400) -> Problem:
    """A Starlette/FastAPI HTTPException as a problem: its detail in English, a generic Chinese text."""
    if isinstance(exc, HTTPProblem):
        return exc.problem
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not JSON in UTF-8.
        return Problem.of(invalid_json_status, "json_invalid", "the body is not valid JSON in UTF-8",
                          "请求体不是有效的 UTF-8 编码 JSON", loc=("body",), headers=headers)
    title_zh, title_en = STATUS_TITLES.get(exc.status_code, STATUS_TITLES[500 if exc.status_code >= 500 else 400])
    rule = _status_code(exc.status_code)
    if isinstance(exc.detail, list) and all(isinstance(d, dict) and "msg" in d for d in exc.detail):
        # FastAPI's own shape, raised by a route: [{"loc", "msg", "type"}, …]
        return Problem(exc.status_code, validation_failures(
            {"loc": d.get("loc", ()), "type": d.get("type", rule), "msg": d["msg"]} for d in exc.detail),
            headers=headers)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return Problem(exc.status_code, [Failure((), rule, detail or title_en, title_zh)], code=rule, headers=headers)


def _status_code(status: int) -> str:
    return {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
            405: "method_not_allowed", 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type",
            422: "invalid_request", 429: "rate_limited", 503: "unavailable"}.get(status, f"http_{status}")


def _summary(messages: list[str], sep: str, default: str) -> str:
    if not messages:
        return default
    shown = sep.join(messages[:3])
    return shown if len(messages) <= 3 else f"{shown}{sep}… (+{len(messages) - 3})"


def document(doc: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document say that every 4xx and 5xx answer is problem details (an ``openapi`` hook)."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["ProblemDetail"] = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["ProblemDetail"].pop("$defs", {}))
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            if "requestBody" in op:
                responses.setdefault("400", {"description": "The body could not be parsed (not JSON, or not UTF-8)"})
                responses.setdefault("413", {"description": "The body is larger than the service accepts"})
            responses.setdefault("500", {"description": "Unexpected error (its details are logged, not answered)"})
            for code, response in responses.items():
                if code[:1] in ("4", "5") and response.pop("x-not-a-problem", False) is False:
                    response["content"] = dict(content)
    # FastAPI's own error schemas, now referenced by nothing (the second only by the first).
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f'"#/components/schemas/{unused}"' not in json.dumps(doc):
            del schemas[unused]
    return doc
