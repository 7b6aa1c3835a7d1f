"""The webhook's signatures: Standard Webhooks (checked with the published verifier) and the version-1 header."""

import base64
import time

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.alerts.channels.webhook import classify, sign, signing_keys, standard_signature, verify, verify_standard

KEY = base64.b64encode(b"fgw-key-0123456789abcdef").decode()
OLD = base64.b64encode(b"fgw-old-key-9876543210").decode()


def _headers(keys: tuple[bytes, ...], msg_id: str, body: bytes, ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    return {"webhook-id": msg_id, "webhook-timestamp": ts,
            "webhook-signature": standard_signature(keys, msg_id, ts, body)}


def test_the_published_standard_webhooks_verifier_accepts_our_signature_with_either_key_while_rotating() -> None:
    body = b'{"event_id":"e1","idempotency_key":"k1","text":"\xe8\x87\xb4"}'
    keys = signing_keys(f"whsec_{KEY} whsec_{OLD}")  # the new key first, the old one still active
    headers = _headers(keys, "k1", body)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (f"whsec_{KEY}", f"whsec_{OLD}"):  # a receiver holding either key verifies
        assert Webhook(secret).verify(body, headers)["event_id"] == "e1"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + base64.b64encode(b"another-department").decode()).verify(body, headers)


@pytest.mark.parametrize("tamper", ["id", "body", "timestamp"])
def test_the_id_the_time_and_the_body_are_signed_together(tamper: str) -> None:
    keys = signing_keys(f"whsec_{KEY}")
    body = b'{"event_id":"e1","idempotency_key":"k1"}'
    headers = _headers(keys, "k1", body)
    if tamper == "id":
        headers["webhook-id"] = "k2"  # a repeat passed off as a new notification
    elif tamper == "body":
        body = body.replace(b"e1", b"e2")
    else:
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) + 1)
    assert not verify_standard(keys, headers, body)
    with pytest.raises(WebhookVerificationError):
        Webhook(f"whsec_{KEY}").verify(body, headers)


def test_plain_text_secrets_and_stale_timestamps() -> None:
    assert signing_keys("drill") == (b"drill",)
    with pytest.raises(ValueError, match="not base64"):
        signing_keys("whsec_%%%")
    body = b"{}"
    stale = _headers((b"drill",), "k", body, ts=str(int(time.time()) - 3600))
    assert not verify_standard((b"drill",), stale, body)
    assert verify_standard((b"drill",), _headers((b"drill",), "k", body), body)


def test_version_1_signature_covers_timestamp_and_body() -> None:
    sig = sign(b"k", "1700000000", b'{"a":1}')
    assert sig.startswith("sha256=") and len(sig) == 7 + 64
    assert verify(b"k", "1700000000", b'{"a":1}', sig)
    assert not verify(b"k", "1700000001", b'{"a":1}', sig)
    assert not verify(b"k", "1700000000", b'{"a":2}', sig)
    assert not verify(b"other", "1700000000", b'{"a":1}', sig)


def test_failures_are_sorted_retryable_or_permanent() -> None:
    def r(code: int, **headers: str) -> httpx.Response:
        return httpx.Response(code, headers=headers, request=httpx.Request("POST", "http://x"))

    assert classify(r(200)).delivered
    assert classify(r(503)).retryable
    throttled = classify(r(429, **{"Retry-After": "7"}))
    assert throttled.retryable and throttled.retry_after_s == 7
    assert not classify(r(404)).retryable
    assert not classify(r(400)).delivered
