"""What every channel shares: where a notification goes, what an attempt came to, and the notifier interface.

As in Alertmanager's notifiers, each channel says whether a failure is worth retrying: network errors,
timeouts, 408/425/429 and 5xx are; other 4xx are not. The chat robots answer HTTP 200 with an error code in
the body, so each robot channel reads that code too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from services.alerts.domain.directory import ChannelType


@dataclass(frozen=True)
class Destination:
    """A resolved receiver: its reference (``department:channel``), type, address and secret."""

    ref: str
    type: ChannelType
    address: str  # URL, or comma-separated e-mail addresses
    secret: str | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt came to."""

    delivered: bool
    retryable: bool
    http_status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


class Notifier(Protocol):
    """Sends one stored payload to one destination."""

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One attempt; never raises for delivery failures."""
        ...


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (an HTTP date falls back to our own backoff)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def classify_http(response: Any) -> DeliveryResult | None:
    """None for 2xx; otherwise the failure: 408, 425, 429 and 5xx retryable (honouring Retry-After)."""
    code = response.status_code
    if 200 <= code < 300:
        return None
    retryable = code in (408, 425, 429) or code >= 500
    return DeliveryResult(False, retryable, code, f"HTTP {code}: {response.text[:200]}",
                          retry_after(response.headers.get("Retry-After")))


def network_failure(exc: Exception) -> DeliveryResult:
    """Connection errors and timeouts are worth retrying."""
    return DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}"[:300])


def robot_result(response: Any, code_field: str, retryable_codes: frozenset[int],
                 alt_code_field: str | None = None) -> DeliveryResult:
    """A chat robot's answer: HTTP status first, then the error code in the 200 body (0 = delivered)."""
    failed = classify_http(response)
    if failed is not None:
        return failed
    try:
        body = response.json()
    except ValueError:
        return DeliveryResult(False, True, response.status_code, f"not JSON: {response.text[:200]}")
    code = body.get(code_field) if isinstance(body, dict) else None
    if code is None and alt_code_field and isinstance(body, dict):
        code = body.get(alt_code_field)
    if code is None:
        return DeliveryResult(False, False, response.status_code, f"no {code_field} in answer: {response.text[:200]}")
    if code == 0:
        return DeliveryResult(True, False, response.status_code)
    msg = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
    error = f"{code_field} {code}: {msg}"[:300]
    return DeliveryResult(False, int(code) in retryable_codes, response.status_code, error)
