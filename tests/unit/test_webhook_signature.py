import httpx

from services.alerts.channels.webhook import classify, sign, verify


def test_signature_covers_timestamp_and_body() -> None:
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
