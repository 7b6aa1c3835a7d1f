"""The generic webhook channel: versioned JSON, signed by the Standard Webhooks convention with the receiver's own key.

Headers (https://www.standardwebhooks.com): ``webhook-id`` (the notification's idempotency key, stable across
retries), ``webhook-timestamp`` (unix seconds) and ``webhook-signature`` = ``v1,<base64 HMAC-SHA256(key,
f"{webhook-id}.{webhook-timestamp}.{body}")>``, one space-separated signature per active key (two while a key
is rotated, the new one first). The id, the time and the body (which names the event id and the idempotency
key too) are signed together, so none can be swapped. Receivers verify with a published library in any
language (Python: ``standardwebhooks``). ``Idempotency-Key``, ``X-Signature-Timestamp`` and ``X-Signature`` =
``sha256=`` + hex(HMAC(newest key, f"{timestamp}.".encode() + body)) stay for receivers built on version 1.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from services.alerts.channels.base import DeliveryResult, Destination, Message, classify_http, network_failure
from services.alerts.channels.http import HttpPoster, TransportError
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.model import kind_of
from services.alerts.domain.templates import greeting, group_title, part_text

PAYLOAD_VERSION = "1"
SECRET_PREFIX = "whsec_"


def signing_keys(value: str) -> tuple[bytes, ...]:
    """The keys in a secret setting: space-separated, newest first; ``whsec_<base64>`` or plain text."""
    keys = []
    for item in value.split():
        if item.startswith(SECRET_PREFIX):
            try:
                keys.append(base64.b64decode(item[len(SECRET_PREFIX):], validate=True))
            except (binascii.Error, ValueError):
                raise ValueError(f"{item[:10]}…: not base64 after {SECRET_PREFIX}") from None
        else:
            keys.append(item.encode())
    return tuple(keys)


def standard_signature(keys: tuple[bytes, ...], msg_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<base64>`` per key, space-separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join("v1," + base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode() for k in keys)


def verify_standard(keys: tuple[bytes, ...], headers: Mapping[str, str], body: bytes, *,
                    tolerance_s: float = 300, now: float | None = None) -> bool:
    """Whether Standard Webhooks headers carry a signature by one of ``keys`` made within the tolerance."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, ts, sigs = h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", "")
    if not (msg_id and ts.isdigit() and sigs) or abs((now or time.time()) - int(ts)) > tolerance_s:
        return False
    wanted = {s.encode() for s in standard_signature(keys, msg_id, ts, body).split()}
    return any(hmac.compare_digest(w, given.encode()) for given in sigs.split() for w in wanted)


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The version-1 ``X-Signature`` header value for a body sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether a version-1 ``X-Signature`` header matches (constant-time)."""
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode())


def classify(response: Any) -> DeliveryResult:
    """2xx delivered; 408, 425, 429 and 5xx retryable (honouring Retry-After); other statuses permanent."""
    return classify_http(response) or DeliveryResult(True, False, response.status_code)


class WebhookChannel:
    """Renders the versioned JSON and POSTs it as is, signed with the destination's keys."""

    type = ChannelType.WEBHOOK

    def __init__(self, client: HttpPoster) -> None:
        self.client = client

    def render(self, message: Message) -> str:
        """The webhook body (see the README's webhook format)."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        text = "\n\n".join([f"{title}\n{greeting(message.department_zh)}", *(part_text(p) for p in parts)])
        first = parts[0]
        events = [p.event.model_dump(mode="json") for p in parts]  # once each: the first is in the body twice
        doc = {
            "version": PAYLOAD_VERSION, "idempotency_key": message.idempotency_key,
            "event_id": message.event_ids[0], "kind": kind_of([p.kind for p in parts]).value,
            "alert_id": first.alert_id, "department": {"id": message.department, "name_zh": message.department_zh},
            "title": title, "text": text, "event": events[0],
            "alerts": [{"alert_id": p.alert_id, "kind": p.kind, "ack_url": p.ack_url, "event_id": eid, "event": event}
                       for p, eid, event in zip(parts, message.event_ids, events, strict=True)],
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One signed POST."""
        if not dest.signing_keys:
            return DeliveryResult(False, False, None, f"receiver {dest.ref} has no signing key")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "webhook-id": idempotency_key,
            "webhook-timestamp": timestamp,
            "webhook-signature": standard_signature(dest.signing_keys, idempotency_key, timestamp, payload),
            "Idempotency-Key": idempotency_key,
            "X-Signature-Timestamp": timestamp,
            "X-Signature": sign(dest.signing_keys[0], timestamp, payload),
        }
        try:
            response = self.client.post(dest.address, content=payload, headers=headers, timeout=timeout_s)
        except TransportError as exc:
            return network_failure(exc)
        return classify(response)
