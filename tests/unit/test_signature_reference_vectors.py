"""Our signatures against the platforms' own published algorithms and reference examples, not only our receiver.

- Standard Webhooks (the generic webhook channel): the specification's test vector, and the reference library
  (`standardwebhooks`, the spec authors' implementation) verifying what we send, and refusing a stale timestamp.
- DingTalk 加签 (open.dingtalk.com, 自定义机器人安全设置): ``sign = urlencode(base64(HMAC-SHA256(key=secret,
  msg=timestamp_ms + "\\n" + secret)))`` in the URL beside ``timestamp``; computed here with hmac directly, as the
  platform's documentation does, from the request our channel actually made.
- Feishu 签名校验 (open.feishu.cn, 自定义机器人): ``sign = base64(HMAC-SHA256(key=timestamp_s + "\\n" + secret,
  msg=""))`` in the body beside ``timestamp``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.alerts.channels import dingtalk, feishu
from services.alerts.channels.base import DeliveryResult, Destination
from services.alerts.channels.dingtalk import DingTalkChannel
from services.alerts.channels.feishu import FeishuChannel
from services.alerts.channels.webhook import signing_keys, standard_signature, verify_standard
from services.alerts.domain.directory import ChannelType

# The Standard Webhooks specification's example (standard-webhooks/standard-webhooks, spec and libraries' tests).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TS, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_standard_webhooks_specification_example_signs_to_its_published_signature() -> None:
    assert standard_signature(signing_keys(SPEC_SECRET), SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE


def test_the_reference_library_verifies_our_signature_and_we_verify_its() -> None:
    body = json.dumps({"alert": "al-1", "text": "地区生产总值增长滞后"}, ensure_ascii=False).encode()
    now = int(time.time())
    ours = {"webhook-id": "al-1-webhook", "webhook-timestamp": str(now),
            "webhook-signature": standard_signature(signing_keys(SPEC_SECRET), "al-1-webhook", str(now), body)}
    Webhook(SPEC_SECRET).verify(body, ours)  # raises if the reference implementation disagrees
    theirs = Webhook(SPEC_SECRET).sign("al-2", datetime.fromtimestamp(now, UTC), body.decode())
    assert verify_standard(signing_keys(SPEC_SECRET), {"webhook-id": "al-2", "webhook-timestamp": str(now),
                                                       "webhook-signature": theirs}, body)


def test_a_stale_timestamp_is_refused_by_our_verifier_and_by_the_reference_library() -> None:
    stale = int(time.time()) - 301  # both use a 5-minute tolerance
    headers = {"webhook-id": "al-1", "webhook-timestamp": str(stale),
               "webhook-signature": standard_signature(signing_keys(SPEC_SECRET), "al-1", str(stale), SPEC_BODY)}
    assert not verify_standard(signing_keys(SPEC_SECRET), headers, SPEC_BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(SPEC_SECRET).verify(SPEC_BODY, headers)
    fresh = {**headers, "webhook-timestamp": str(stale + 60)}
    fresh["webhook-signature"] = standard_signature(signing_keys(SPEC_SECRET), "al-1", str(stale + 60), SPEC_BODY)
    assert verify_standard(signing_keys(SPEC_SECRET), fresh, SPEC_BODY)


class Capture:
    """Stands in for the robot poster: records the URL and body the channel would send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes]] = []

    def post(self, url: str, body: bytes, timeout_s: float) -> DeliveryResult:
        self.sent.append((url, body))
        return DeliveryResult(True, False, 200, None)


ROBOT_SECRET = "SEC1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"
PAYLOAD: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": "预警", "text": "### 预警"}}


def test_dingtalk_sign_in_the_url_is_the_documented_hmac_of_timestamp_and_secret(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dingtalk.time, "time", lambda: 1_700_000_000.123)
    ch = DingTalkChannel.__new__(DingTalkChannel)
    ch.poster = Capture()  # type: ignore[assignment]
    dest = Destination("fgw:dingtalk", ChannelType.DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=abc",
                       secret=ROBOT_SECRET)
    ch.send(dest, json.dumps(PAYLOAD).encode(), idempotency_key="k", timeout_s=1)
    url = ch.poster.sent[0][0]  # type: ignore[attr-defined]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["access_token"] == ["abc"] and query["timestamp"] == ["1700000000123"]
    # The documentation's Python example, verbatim in substance:
    string_to_sign = "1700000000123\n" + ROBOT_SECRET
    hmac_code = hmac.new(ROBOT_SECRET.encode("utf-8"), string_to_sign.encode("utf-8"),
                         digestmod=hashlib.sha256).digest()
    expected = urllib.parse.quote_plus(base64.b64encode(hmac_code))
    assert url.endswith("&sign=" + expected)
    assert query["sign"] == [base64.b64encode(hmac_code).decode()]


def test_feishu_sign_in_the_body_is_the_documented_hmac_keyed_by_timestamp_and_secret(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feishu.time, "time", lambda: 1_700_000_000.9)
    ch = FeishuChannel.__new__(FeishuChannel)
    ch.poster = Capture()  # type: ignore[assignment]
    dest = Destination("fgw:feishu", ChannelType.FEISHU, "https://open.feishu.cn/open-apis/bot/v2/hook/x",
                       secret=ROBOT_SECRET)
    ch.send(dest, json.dumps({"msg_type": "text", "content": {"text": "预警"}}).encode(), idempotency_key="k",
            timeout_s=1)
    body = json.loads(ch.poster.sent[0][1])  # type: ignore[attr-defined]
    assert body["timestamp"] == "1700000000"  # seconds, as a string, as the documentation's example sends it
    string_to_sign = "1700000000\n" + ROBOT_SECRET
    hmac_code = hmac.new(string_to_sign.encode("utf-8"), digestmod=hashlib.sha256).digest()
    assert body["sign"] == base64.b64encode(hmac_code).decode("utf-8")
    assert body["msg_type"] == "text" and body["content"] == {"text": "预警"}
