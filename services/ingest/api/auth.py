"""Who is calling: a submitting organisation's API key, or the operator's admin token. 401 says why."""

from __future__ import annotations

import hmac

from fastapi import Request, Security
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from services.ingest.api.errors import ApiError
from services.ingest.api.limits import RateLimiter
from services.ingest.domain.keys import ApiKey
from services.ingest.runtime import IngestRuntime

# Declared for the OpenAPI document (the "Authorize" button); the checks below give the precise errors.
bureau_scheme = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                           description="The organisation's API key: `Authorization: Bearer wxk_…`")
admin_scheme = HTTPBearer(auto_error=False, scheme_name="AdminToken",
                          description="The operator's token (INGEST_ADMIN_TOKEN): `Authorization: Bearer …`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_LOC: list[str | int] = ["header", "Authorization"]


def _presented(request: Request, what: str) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise ApiError.one(401, _LOC, f"missing {what}: send the header 'Authorization: Bearer <{what}>'",
                           "missing_credentials", _CHALLENGE)
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise ApiError.one(401, _LOC, f"the Authorization header must be 'Bearer <{what}>'",
                           "malformed_credentials", _CHALLENGE)
    return value


async def bureau_key(request: Request, _: object = Security(bureau_scheme)) -> ApiKey:
    """The caller's API key, checked (401 when missing, unknown or revoked) and rate-limited (429)."""
    rt: IngestRuntime = request.app.state.runtime
    presented = _presented(request, "API key")
    key = rt.keys.peek(presented)
    if key is None:
        key = await run_in_threadpool(rt.keys.lookup, presented)
    if key is None:
        raise ApiError.one(401, _LOC, "unknown API key: ask the operator for a key", "unknown_api_key", _CHALLENGE)
    if not key.active:
        raise ApiError.one(401, _LOC, f"API key {key.id} of {key.organisation} was revoked at "
                           f"{key.revoked_at:%Y-%m-%d %H:%M} UTC", "revoked_api_key", _CHALLENGE)
    wait = rt.rate_limiter.take(key.id)
    if wait > 0:
        raise ApiError.one(429, _LOC, f"rate limit of {rt.settings.rate_limit_per_s:g} requests/s for key {key.id} "
                           f"exceeded; retry after {wait:.2f}s", "rate_limited",
                           {"Retry-After": RateLimiter.retry_after_header(wait)})
    request.state.api_key = key
    return key


async def admin(request: Request, _: object = Security(admin_scheme)) -> None:
    """Allow only the operator's admin token (401 otherwise)."""
    rt: IngestRuntime = request.app.state.runtime
    token = rt.settings.admin_token
    if token is None:  # the admin routes are not even mounted then; belt and braces
        raise ApiError.one(404, ["path"], "admin endpoints are off (INGEST_ADMIN_TOKEN is not set)", "not_found")
    presented = _presented(request, "admin token")
    if not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
        raise ApiError.one(401, _LOC, "wrong admin token", "wrong_admin_token", _CHALLENGE)
