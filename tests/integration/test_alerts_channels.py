"""Every channel end to end in-process: a real broker, database, HTTP receiver playing each platform, and SMTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from services.alerts.channels.webhook import verify_standard
from shared.messages import Severity

from .alerts_harness import SmtpSink, running, send, settings, wait_until, webhook_secret

DING, FEI = "ding-secret-0123", "feishu-secret-4567"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    s = SmtpSink()
    s.controller.start()
    yield s
    s.controller.stop()


def test_a_critical_deviation_reaches_every_channel_signed_and_in_chinese(
        database_url: str, broker: TansuBroker, topic_prefix: str, smtp: SmtpSink) -> None:
    keys = {"fgw": webhook_secret("fgw").encode(), "supervision": webhook_secret("supervision").encode()}
    recv = Receiver(secrets={f"/hook/{d}": k for d, k in keys.items()}, dingtalk_secret=DING,
                    feishu_secret=FEI).start()
    try:
        env = {
            "NOTIFY_FGW_WEBHOOK_URL": f"{recv.url}/hook/fgw",
            "NOTIFY_FGW_WECOM_URL": f"{recv.url}/wecom/send?key=fgw-key",
            "NOTIFY_FGW_DINGTALK_URL": f"{recv.url}/dingtalk/robot/send?access_token=fgw",
            "NOTIFY_FGW_DINGTALK_SECRET": DING,
            "NOTIFY_FGW_FEISHU_URL": f"{recv.url}/feishu/open-apis/bot/v2/hook/fgw",
            "NOTIFY_FGW_FEISHU_SECRET": FEI,
            "NOTIFY_FGW_EMAIL_TO": "duty@fgw.example, head@fgw.example",
            "NOTIFY_SUPERVISION_WEBHOOK_URL": f"{recv.url}/hook/supervision",
            "NOTIFY_STATS_WECOM_URL": f"{recv.url}/wecom/send?key=stats-key",
        }
        s = settings(database_url, broker, topic_prefix, smtp_host="127.0.0.1", smtp_port=smtp.port,
                     smtp_from="alerts@wuxi.example")
        with running(s, env) as client:
            send(broker, topic_prefix, [("fixed_asset_investment_total", Severity.CRITICAL)])
            got = recv.wait_for(6)
            mails = smtp.wait_for(1)
            assert not recv.rejected, recv.rejected
            paths = sorted(r.path for r in got)
            assert paths == ["/dingtalk/robot/send", "/feishu/open-apis/bot/v2/hook/fgw", "/hook/fgw",
                             "/hook/supervision", "/wecom/send", "/wecom/send"]
            hook = next(r for r in got if r.path == "/hook/fgw")
            # Signed with fgw's own key: supervision's key does not verify it.
            assert verify_standard((keys["fgw"],), hook.headers, hook.body)
            assert not verify_standard((keys["supervision"],), hook.headers, hook.body)
            body = hook.json()
            assert body["version"] == "1" and body["kind"] == "firing"
            assert body["idempotency_key"] == hook.headers["Idempotency-Key"]
            assert "固定资产投资4550亿元" in body["text"] and "http://alerts.test/v1/ack/" in body["text"]
            sup = next(r for r in got if r.path == "/hook/supervision").json()
            assert "请跟踪督办" in sup["text"] and "/v1/ack/" not in sup["text"]  # only the lead acknowledges
            wecom = [r.json()["markdown"]["content"] for r in got if r.path == "/wecom/send"]
            assert any("致：市统计局" in c and "请配合牵头单位" in c for c in wecom)
            feishu = next(r for r in got if r.path.startswith("/feishu")).json()
            assert feishu["msg_type"] == "interactive" and feishu["timestamp"] and feishu["sign"]
            buttons = [a for e in feishu["card"]["elements"] if e["tag"] == "action" for a in e["actions"]]
            assert [b["text"]["content"] for b in buttons] == ["确认"]
            assert buttons[0]["url"].startswith("http://alerts.test/v1/ack/")
            assert mails
            [mail] = mails
            assert mail["Subject"] == "【目标预警】固定资产投资"
            assert mail["To"] == "duty@fgw.example, head@fgw.example"
            assert "差距：低于预期" in mail.get_content()
            deliveries = wait_until(lambda: [d for d in client.get("/v1/deliveries").json() if d["status"] == "sent"]
                                    if len(client.get("/v1/deliveries", params={"status": "sent"}).json()) == 7
                                    else None, what="seven notifications recorded as sent")
            assert len(deliveries) == 7
            metrics = client.get("/metrics").text
            assert 'alerts_notifications_sent_total{channel="wecom"} 2.0' in metrics
            assert 'alerts_open_alerts{severity="critical"} 1.0' in metrics
            assert 'alerts_delivery_duration_seconds_count{channel="email"} 1.0' in metrics
    finally:
        recv.stop()


def test_a_robot_error_code_in_a_200_is_a_failure_and_a_rate_limit_is_retried(
        database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    recv = Receiver(robot_errcode=45009).start()  # WeCom: API freq out of limit
    try:
        env = {"NOTIFY_FGW_WECOM_URL": f"{recv.url}/wecom/send?key=k"}
        # The robot is paused ALERTS_ROBOT_PAUSE_S after each such answer (60 s in service).
        with running(settings(database_url, broker, topic_prefix, robot_pause_s=0.3), env) as client:
            send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
            wait_until(lambda: len(recv.rejected) >= 2, what="two rate-limited attempts")
            assert recv.requests == []
            recv.robot_errcode = None
            wait_until(lambda: recv.requests, what="delivery once the rate limit lifts")
            [d] = client.get("/v1/deliveries").json()
            wait_until(lambda: client.get("/v1/deliveries").json()[0]["status"] == "sent", what="sent")
            attempts = client.get(f"/v1/deliveries/{d['id']}/attempts").json()
            assert attempts[0]["outcome"] == "retry" and "errcode 45009" in attempts[0]["error"]
            assert attempts[-1]["outcome"] == "delivered"
    finally:
        recv.stop()


def test_email_refused_permanently_is_not_retried(database_url: str, broker: TansuBroker, topic_prefix: str,
                                                  smtp: SmtpSink) -> None:
    smtp.refuse_with = "550 5.1.1 mailbox unavailable"
    s = settings(database_url, broker, topic_prefix, smtp_host="127.0.0.1", smtp_port=smtp.port,
                 smtp_from="alerts@wuxi.example")
    with running(s, {"NOTIFY_FGW_EMAIL_TO": "nobody@fgw.example"}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [d] = wait_until(lambda: [x for x in client.get("/v1/deliveries").json() if x["status"] == "failed"],
                         what="a failed e-mail")
        assert d["attempts"] == 1 and "550" in d["last_error"]
