"""Which failures are retried, backoff bounds, silences and signed links: pure rules, no I/O."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.alerts.channels.base import classify_http, robot_result
from services.alerts.channels.dingtalk import DINGTALK_RATE_LIMITED, DINGTALK_RETRYABLE
from services.alerts.channels.feishu import FEISHU_RATE_LIMITED, FEISHU_RETRYABLE
from services.alerts.channels.wecom import WECOM_RATE_LIMITED, WECOM_RETRYABLE
from services.alerts.domain.retry import backoff_s
from services.alerts.domain.silences import Silence, silenced_by
from services.alerts.links import AckLinks


def _resp(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


@pytest.mark.parametrize(("status", "retryable"), [(500, True), (503, True), (429, True), (408, True),
                                                   (400, False), (401, False), (404, False), (413, False)])
def test_http_failures_are_sorted(status: int, retryable: bool) -> None:
    r = classify_http(_resp(status))
    assert r is not None and not r.delivered and r.retryable is retryable


def test_retry_after_is_read_and_2xx_is_delivered() -> None:
    assert classify_http(_resp(204)) is None
    r = classify_http(_resp(429, headers={"Retry-After": "7"}))
    assert r is not None and r.retry_after_s == 7.0
    assert classify_http(_resp(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})).retry_after_s is None


W = (WECOM_RETRYABLE, WECOM_RATE_LIMITED)
D = (DINGTALK_RETRYABLE, DINGTALK_RATE_LIMITED)
F = (FEISHU_RETRYABLE, FEISHU_RATE_LIMITED)


@pytest.mark.parametrize(("body", "codes", "field", "delivered", "retryable", "limited"), [
    ({"errcode": 0, "errmsg": "ok"}, W, "errcode", True, False, False),
    ({"errcode": 45009, "errmsg": "api freq out of limit"}, W, "errcode", False, True, True),
    ({"errcode": -1, "errmsg": "system busy"}, W, "errcode", False, True, False),
    ({"errcode": 93000, "errmsg": "invalid webhook url"}, W, "errcode", False, False, False),
    ({"errcode": 130101, "errmsg": "send too fast"}, D, "errcode", False, True, True),
    ({"errcode": 660026, "errmsg": "robot send too fast"}, D, "errcode", False, True, True),
    ({"errcode": 310000, "errmsg": "sign not match"}, D, "errcode", False, False, False),
    ({"code": 0, "msg": "success"}, F, "code", True, False, False),
    ({"StatusCode": 0, "StatusMessage": "success"}, F, "code", True, False, False),
    ({"code": 11232, "msg": "frequency limited"}, F, "code", False, True, True),
    ({"code": 9499, "msg": "bad request"}, F, "code", False, True, False),
    ({"code": 19021, "msg": "sign match fail"}, F, "code", False, False, False),
    ({"unexpected": True}, W, "errcode", False, False, False),
])
def test_robot_errcodes_in_a_200_body(body: dict, codes: tuple[frozenset[int], frozenset[int]], field: str,
                                      delivered: bool, retryable: bool, limited: bool) -> None:
    r = robot_result(_resp(200, body), field, codes[0], "StatusCode" if field == "code" else None,
                     rate_limit_codes=codes[1])
    assert (r.delivered, r.retryable, r.rate_limited) == (delivered, retryable, limited)
    if not delivered:
        assert r.error


def test_backoff_grows_is_capped_and_never_zero() -> None:
    rng = random.Random(1)
    for failures, lo, hi in ((1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (10, 7.5, 15.0)):
        for _ in range(50):
            assert lo <= backoff_s(failures, 1.0, 15.0, rng) <= hi


def test_silence_matches_every_given_matcher_while_active() -> None:
    t0 = datetime(2024, 7, 1, tzinfo=UTC)
    s = Silence("s", None, "fgw", "warning", t0, t0 + timedelta(hours=1))
    assert silenced_by([s], t0, target_id="gdp_growth", department="fgw", severity="warning") is s
    assert silenced_by([s], t0, target_id="gdp_growth", department="fgw", severity="critical") is None
    assert silenced_by([s], t0, target_id="gdp_growth", department="swj", severity="warning") is None
    assert silenced_by([s], t0 + timedelta(hours=1), target_id="x", department="fgw", severity="warning") is None


def test_ack_links_are_bound_to_alert_department_and_expiry() -> None:
    links = AckLinks(b"k", "https://alerts.example/", 3600)
    url = links.url("a1", "fgw", 1000.0)
    assert url is not None and url.startswith("https://alerts.example/v1/ack/a1?department=fgw&expires=4600&")
    sig = links.signature("a1", "fgw", 4600)
    assert links.check("a1", "fgw", 4600, sig, 2000.0) is None
    assert "expired" in (links.check("a1", "fgw", 4600, sig, 5000.0) or "")
    assert "signature" in (links.check("a1", "swj", 4600, sig, 2000.0) or "")
    assert "signature" in (links.check("a2", "fgw", 4600, sig, 2000.0) or "")
    assert "signature" in (links.check("a1", "fgw", 9999, sig, 2000.0) or "")
