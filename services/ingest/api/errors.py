"""Ingest's HTTP errors: one exception type, one JSON shape (FastAPI's ``detail`` list, rule in ``type``)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from fastapi.responses import JSONResponse

from services.ingest.domain.observations import FieldError


class ApiError(Exception):
    """An answer other than success: status, every problem found (loc, msg, type) and extra headers."""

    def __init__(self, status: int, problems: Sequence[tuple[list[str | int], str, str]],
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status}: {'; '.join(p[1] for p in problems)}")
        self.status = status
        self.problems = list(problems)
        self.headers = headers or {}

    @classmethod
    def one(cls, status: int, loc: list[str | int], msg: str, rule: str,
            headers: dict[str, str] | None = None) -> ApiError:
        """An error with a single problem."""
        return cls(status, [(loc, msg, rule)], headers)

    @classmethod
    def rows(cls, status: int, errors: Sequence[FieldError], prefix: list[str | int]) -> ApiError:
        """Row-level problems, each located as ``prefix + [row, field]`` (or ``prefix + [field]``)."""
        problems: list[tuple[list[str | int], str, str]] = []
        for e in errors:
            loc = [*prefix, e.row, e.field] if prefix and prefix[-1] in ("observations", "file") else [*prefix, e.field]
            problems.append((loc, e.message, e.rule))
        return cls(status, problems)


async def api_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Render an ApiError as ``{"detail": [{"loc", "msg", "type"}, …]}``."""
    assert isinstance(exc, ApiError)
    detail = [{"loc": loc, "msg": msg, "type": rule} for loc, msg, rule in exc.problems]
    return JSONResponse({"detail": detail}, status_code=exc.status, headers=exc.headers)
