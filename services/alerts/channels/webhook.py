"""The generic webhook channel: versioned JSON, signed with HMAC-SHA256 over the timestamp and the body.

Receivers verify ``X-Signature`` = ``sha256=`` + hex(HMAC(secret, f"{X-Signature-Timestamp}.".encode() + body))
and drop repeats by the ``Idempotency-Key`` header, which stays the same across retries.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from services.alerts.channels.base import DeliveryResult, Destination, classify_http, network_failure
from services.alerts.channels.http import HttpPoster, TransportError

PAYLOAD_VERSION = "1"


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether a signature header matches (constant-time)."""
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode())


def classify(response: Any) -> DeliveryResult:
    """2xx delivered; 408, 425, 429 and 5xx retryable (honouring Retry-After); other statuses permanent."""
    return classify_http(response) or DeliveryResult(True, False, response.status_code)


class WebhookNotifier:
    """POSTs the stored JSON as is, signed."""

    def __init__(self, client: HttpPoster, secret: bytes) -> None:
        self.client = client
        self.secret = secret

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST."""
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key,
            "X-Signature-Timestamp": timestamp,
            "X-Signature": sign(self.secret, timestamp, payload),
        }
        try:
            response = self.client.post(dest.address, content=payload, headers=headers, timeout=timeout_s)
        except TransportError as exc:
            return network_failure(exc)
        return classify(response)
