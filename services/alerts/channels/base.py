"""What every channel shares: where a notification goes, what an attempt came to, and the channel interface.

As in Alertmanager's notifiers, each channel says whether a failure is worth retrying: network errors,
timeouts, 408/425/429 and 5xx are; other 4xx are not. A failure after the request went out whole (a timeout
waiting for the answer, a connection reset) is *ambiguous*: the platform may have accepted the message.
The dispatcher retries those only on channels whose receivers drop repeats (the webhook's Idempotency-Key);
elsewhere they are recorded as uncertain (ALERTS_RETRY_AMBIGUOUS_CHANNELS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import AlertPart
from services.alerts.domain.text import clean


@dataclass(frozen=True)
class Destination:
    """A resolved receiver: its reference (``department:channel``), type, address and secrets."""

    ref: str
    type: ChannelType
    address: str  # URL, or comma-separated e-mail addresses
    secret: str | None = None  # a robot's signing secret
    signing_keys: tuple[bytes, ...] = ()  # a webhook's active signing keys, newest first (two while rotating)
    # The department's contacts to @-mention on a robot (from the directory's *_env variables, never stored).
    mobiles: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()  # the platform's own user ids (WeCom userid, DingTalk userId, Feishu open_id)


@dataclass(frozen=True)
class DeliveryResult:
    """What one attempt came to."""

    delivered: bool
    retryable: bool
    http_status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    ambiguous: bool = False  # failed after the message went out whole: it may have been accepted
    rate_limited: bool = False  # a robot answered that we send too fast: pause it, this is no failure of ours


@dataclass(frozen=True)
class Message:
    """One department's notification before rendering: its alert parts and what identifies it."""

    parts: list[AlertPart]
    department: str
    department_zh: str
    idempotency_key: str
    event_ids: list[str]  # per part, what caused it: the status change's event id, or the reminder or step


class Channel(Protocol):
    """One channel type: renders a notification once (stored, so retries send the same bytes) and sends it."""

    type: ChannelType

    def render(self, message: Message) -> str:
        """The stored payload (text) of one notification."""
        ...

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
    return DeliveryResult(False, retryable, code, clean(f"HTTP {code}: {response.text[:300]}"),
                          retry_after(response.headers.get("Retry-After")))


def network_failure(exc: Exception) -> DeliveryResult:
    """No answer: worth retrying; ambiguous when the request had gone out whole."""
    return DeliveryResult(False, True, None, clean(f"{type(exc).__name__}: {exc}"),
                          ambiguous=bool(getattr(exc, "ambiguous", False)))


def robot_result(response: Any, code_field: str, retryable_codes: frozenset[int],
                 alt_code_field: str | None = None, rate_limit_codes: frozenset[int] = frozenset()) -> DeliveryResult:
    """A chat robot's answer: HTTP status first, then the error code in the 200 body (0 = delivered).

    ``rate_limit_codes`` are the platform's "sending too fast" answers: retried, and marked ``rate_limited``.
    """
    failed = classify_http(response)
    if failed is not None:
        return failed
    try:
        body = response.json()
    except ValueError:
        # A 200 we cannot read: the platform may well have posted the message.
        return DeliveryResult(False, True, response.status_code, clean(f"not JSON: {response.text[:200]}"),
                              ambiguous=True)
    code = body.get(code_field) if isinstance(body, dict) else None
    if code is None and alt_code_field and isinstance(body, dict):
        code = body.get(alt_code_field)
    if code is None:
        return DeliveryResult(False, False, response.status_code,
                              clean(f"no {code_field} in answer: {response.text[:200]}"))
    if code == 0:
        return DeliveryResult(True, False, response.status_code)
    msg = body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or ""
    try:
        limited = int(code) in rate_limit_codes
        retryable = limited or int(code) in retryable_codes
    except (TypeError, ValueError):
        limited = retryable = False
    return DeliveryResult(False, retryable, response.status_code, clean(f"{code_field} {code}: {msg}"),
                          rate_limited=limited)


def fit(parts_text: list[str], head: str, limit: int, sep: str) -> str:
    """``head`` and as many parts as fit in ``limit`` bytes, then a line saying how many were left out."""
    return fit_parts(parts_text, head, limit, sep)[0]


def fit_parts(parts_text: list[str], head: str, limit: int, sep: str) -> tuple[str, int]:
    """What ``fit`` makes, and how many parts it holds whole (the rest: "请登录系统查看")."""
    out = head
    for i, t in enumerate(parts_text):
        candidate = out + sep + t
        if len(candidate.encode()) > limit - 200:  # 200 bytes kept for the cut line and the @-mentions
            return out + sep + f"……另有{len(parts_text) - i}项，请登录系统查看。", i
        out = candidate
    return out, len(parts_text)


MENTION = "_mention"  # our own field in a stored robot payload: @-mention the contacts when sending (stripped)
COMPLETE = "_complete"  # our own field: False when the message had to be cut (stripped when sending)


def with_own(doc: dict[str, Any], *, mention: bool, shown: int, total: int) -> str:
    """The stored robot payload: the platform's document plus our own fields (strip_own removes them)."""
    if mention:
        doc[MENTION] = True
    if shown < total:
        doc[COMPLETE] = False
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def strip_own(doc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The payload as the platform gets it, and whether the contacts are to be @-mentioned."""
    mention = bool(doc.pop(MENTION, False))
    doc.pop(COMPLETE, None)
    return doc, mention
