"""Who is calling: a submitting organisation's API key, or the operator's admin token. 401 says why.

A key not in the cache costs a database query (under SQLite's one writer lock), so those lookups are rate
limited per client address before they are made: a flood of random keys gets 429s, not the database, and
never evicts the bureaus' keys from the cache (adapters/keys.py).
"""

from __future__ import annotations

import hmac

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from services.ingest.domain.keys import ApiKey
from services.ingest.wiring import IngestWiring, wiring
from shared.limits import RateLimiter
from shared.problems import Problem

# Declared for the OpenAPI document (the "Authorize" button); the checks below give the precise errors.
bureau_scheme = HTTPBearer(auto_error=False, scheme_name="ApiKey",
                           description="The organisation's API key: `Authorization: Bearer wxk_…`")
admin_scheme = HTTPBearer(auto_error=False, scheme_name="AdminToken",
                          description="The operator's token (INGEST_ADMIN_TOKEN): `Authorization: Bearer …`")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_LOC = ("header", "Authorization")


def _presented(request: Request, what: str, what_zh: str) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Problem.of(401, "missing_credentials", f"missing {what}: send the header 'Authorization: Bearer "
                         f"<{what}>'", f"缺少{what_zh}：请在请求头中发送“Authorization: Bearer <{what_zh}>”",
                         loc=_LOC, headers=_CHALLENGE)
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Problem.of(401, "malformed_credentials", f"the Authorization header must be 'Bearer <{what}>'",
                         f"Authorization 请求头应为“Bearer <{what_zh}>”", loc=_LOC, headers=_CHALLENGE)
    return value


def _throttled(limiter: RateLimiter, bucket: str, rule: str, en: str, zh: str) -> None:
    wait = limiter.take(bucket)
    if wait > 0:
        raise Problem.of(429, rule, f"{en}; retry after {wait:.2f}s", f"{zh}，请在{wait:.2f}秒后重试", loc=_LOC,
                         headers={"Retry-After": RateLimiter.retry_after_header(wait)})


async def bureau_key(request: Request, _: object = Security(bureau_scheme),
                     w: IngestWiring = Depends(wiring)) -> ApiKey:
    """The caller's API key, checked (401 when missing, unknown or revoked) and rate-limited (429)."""
    presented = _presented(request, "API key", "API 密钥")
    fresh, key = w.keys.peek(presented)
    if not fresh or key is None:
        # Before asking the database, or answering "unknown" again from the cache: limited per client address.
        # A key that was valid when last seen passes (its entry only went stale).
        if not w.keys.known(presented):
            client = request.client.host if request.client else "unknown"
            _throttled(w.auth_limiter, client, "auth_rate_limited",
                       f"too many unknown API keys from {client}", f"来自{client}的未知密钥过多")
        if not fresh:
            key = await run_in_threadpool(w.keys.lookup, presented)
    if key is None:
        raise Problem.of(401, "unknown_api_key", "unknown API key: ask the operator for a key",
                         "未知的 API 密钥：请向运维人员申请密钥", loc=_LOC, headers=_CHALLENGE)
    if not key.active:
        assert key.revoked_at is not None
        raise Problem.of(401, "revoked_api_key", f"API key {key.id} of {key.organisation} was revoked at "
                         f"{key.revoked_at:%Y-%m-%d %H:%M} UTC",
                         f"{key.organisation}的 API 密钥 {key.id} 已于 {key.revoked_at:%Y-%m-%d %H:%M}（UTC）吊销",
                         loc=_LOC, headers=_CHALLENGE)
    _throttled(w.rate_limiter, key.id, "rate_limited",
               f"rate limit of {w.settings.rate_limit_per_s:g} requests/s for key {key.id} exceeded",
               f"密钥 {key.id} 超过每秒{w.settings.rate_limit_per_s:g}次的请求限额")
    request.state.api_key = key
    return key


async def admin(request: Request, _: object = Security(admin_scheme), w: IngestWiring = Depends(wiring)) -> None:
    """Allow only the operator's admin token (401 otherwise)."""
    token = w.settings.admin_token
    if token is None:  # the admin routes are not even mounted then; belt and braces
        raise Problem.of(404, "not_found", "admin endpoints are off (INGEST_ADMIN_TOKEN is not set)",
                         "管理接口未启用（未设置 INGEST_ADMIN_TOKEN）", loc=("path",))
    presented = _presented(request, "admin token", "管理令牌")
    if not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
        raise Problem.of(401, "wrong_admin_token", "wrong admin token", "管理令牌错误", loc=_LOC, headers=_CHALLENGE)
