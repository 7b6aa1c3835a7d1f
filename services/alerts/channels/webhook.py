"""The generic webhook channel: versioned JSON, signed with HMAC-SHA256 over the timestamp and the body.

Receivers verify ``X-Signature`` = ``sha256=`` + hex(HMAC(secret, f"{X-Signature-Timestamp}.".encode() + body))
and drop repeats by the ``Idempotency-Key`` header, which stays the same across retries.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import httpx

PAYLOAD_VERSION = "1"


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt came to."""

    delivered: bool
    retryable: bool
    http_status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether a signature header matches (constant-time)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def classify(response: httpx.Response) -> DeliveryResult:
    """2xx delivered; 408, 429 and 5xx retryable (honouring Retry-After); other statuses permanent."""
    code = response.status_code
    if 200 <= code < 300:
        return DeliveryResult(True, False, code)
    retry_after = _retry_after(response.headers.get("Retry-After"))
    retryable = code in (408, 425, 429) or code >= 500
    return DeliveryResult(False, retryable, code, f"HTTP {code}: {response.text[:200]}", retry_after)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def post(client: httpx.Client, url: str, body: bytes, *, secret: bytes, idempotency_key: str,
         timestamp: str, timeout_s: float) -> DeliveryResult:
    """Deliver one signed JSON body; network failures are retryable."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_key,
        "X-Signature-Timestamp": timestamp,
        "X-Signature": sign(secret, timestamp, body),
    }
    try:
        response = client.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}"[:300])
    return classify(response)
