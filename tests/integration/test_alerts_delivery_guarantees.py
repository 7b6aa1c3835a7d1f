"""What delivery promises under failure (issue 11): nothing lost to a short outage, nothing repeated blindly,
nothing given up without a trace, nothing wedged by a receiver's binary answer, silences honoured until sent.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from services.alerts import redrive
from services.alerts.retention import Pruner
from shared.messages import Severity

from .alerts_harness import AUTH, SmtpSink, running, send, settings, wait_until


def _deliveries(client: TestClient, **params: str) -> list[dict[str, Any]]:
    return client.get("/v1/deliveries", params=params).json()


def _log(client: TestClient, delivery_id: int) -> list[dict[str, Any]]:
    return client.get(f"/v1/deliveries/{delivery_id}/attempts").json()


def _metric(client: TestClient, line: str) -> bool:
    return line in client.get("/metrics").text


def test_a_lone_notification_outlives_more_probes_than_the_old_attempt_limit_and_arrives_on_return(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with = 503
    s = settings(database_url, broker, topic_prefix, retry_base_s=0.02, retry_max_s=0.05, retry_budget_s=120)
    with running(s, {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/fgw"}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [d] = wait_until(lambda: _deliveries(client), what="the notification")
        # 24 attempts used to be all a notification had, however short the outage.
        wait_until(lambda: len(_log(client, d["id"])) > 30, timeout_s=30, what="more than 30 probes")
        assert _deliveries(client)[0]["status"] == "pending"
        receiver.fail_with = None
        [got] = receiver.wait_for(1, timeout_s=5)
        assert got.headers["Idempotency-Key"] == d["idempotency_key"]
        wait_until(lambda: _deliveries(client, status="sent"), what="recorded as sent")


def test_a_receiver_that_answers_again_gets_its_dead_letters_still_within_budget(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with = 503
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/fgw"}
    with running(settings(database_url, broker, topic_prefix, retry_budget_s=0.3), env) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [dead] = wait_until(lambda: client.get("/v1/dead-letters").json(), what="given up under a short budget")
    # The operator gives notifications a longer budget: the one given up is within it again.
    with running(settings(database_url, broker, topic_prefix, retry_budget_s=300), env) as client:
        send(broker, topic_prefix, [("fixed_asset_investment_total", Severity.WARNING)])
        wait_until(lambda: any(d["attempts"] for d in _deliveries(client, status="pending")), what="a probe")
        receiver.fail_with = None
        got = receiver.wait_for(2, timeout_s=15)
        assert dead["idempotency_key"] in [r.headers["Idempotency-Key"] for r in got]
        assert "revived" in [a["outcome"] for a in _log(client, dead["id"])]
        assert _metric(client, "alerts_notifications_revived_total 1.0")


def test_a_binary_error_body_with_nul_bytes_is_stored_cleaned_and_wedges_nothing(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with, receiver.fail_body = 502, b"\x1f\x8b\x08\x00\x00\x00binary proxy page\x00\xff"
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [d] = wait_until(lambda: [x for x in _deliveries(client) if x["attempts"] >= 2], what="two attempts")
        receiver.fail_with = None
        receiver.wait_for(1, timeout_s=10)
        wait_until(lambda: _deliveries(client, status="sent"), what="recorded as sent")
        log = _log(client, d["id"])
        assert log[0]["error"].startswith("HTTP 502: ") and "binary proxy page" in log[0]["error"]
        assert "\x00" not in log[0]["error"]
        assert client.get("/readyz").status_code == 200


def test_an_ambiguous_failure_leaves_robots_and_email_uncertain_but_retries_the_webhook(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    smtp = SmtpSink()
    smtp.controller.start()
    receiver.delay_s = 1.5  # longer than the delivery timeout: the platform posts the message after we gave up
    smtp.delay_s = 1.5
    try:
        env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/fgw", "NOTIFY_FGW_WECOM_URL": f"{receiver.url}/wecom/fgw",
               "NOTIFY_FGW_EMAIL_TO": "duty@fgw.example"}
        s = settings(database_url, broker, topic_prefix, delivery_timeout_s=0.5, smtp_host="127.0.0.1",
                     smtp_port=smtp.port, smtp_from="alerts@wuxi.example")
        with running(s, env) as client:
            send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
            uncertain = wait_until(lambda: len(u := _deliveries(client, status="uncertain")) == 2 and u,
                                   what="two uncertain notifications")
            assert {u["channel"] for u in uncertain} == {"wecom", "email"}
            for u in uncertain:
                assert [a["outcome"] for a in _log(client, u["id"])] == ["uncertain"]
                assert "Timeout" in (u["last_error"] or "") or "timed out" in (u["last_error"] or "")
            [hook] = _deliveries(client, channel="webhook")
            wait_until(lambda: len(_log(client, hook["id"])) >= 2, what="the webhook retried")
            assert {a["outcome"] for a in _log(client, hook["id"])} == {"retry"}
            assert _metric(client, 'alerts_notifications_uncertain_total{channel="wecom"} 1.0')
            assert _metric(client, 'alerts_notifications_uncertain_total{channel="email"} 1.0')
            # The platforms did post them once; an operator who checked may resend an uncertain one.
            assert len(receiver.wait_for(1, path_prefix="/wecom")) == 1 and len(smtp.messages) == 1
    finally:
        receiver.delay_s = 0
        smtp.controller.stop()


def test_a_silence_created_now_holds_back_a_notification_already_queued(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with = 503
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [d] = wait_until(lambda: [x for x in _deliveries(client) if x["attempts"] >= 1], what="a first attempt")
        body = {"department": "fgw", "duration_minutes": 60, "owner": "李四", "reason": "系统割接，临时静默"}
        silence = client.post("/v1/silences", json=body, headers=AUTH).json()
        receiver.fail_with = None
        [muted] = wait_until(lambda: _deliveries(client, status="suppressed"), what="held back by the silence")
        assert muted["id"] == d["id"] and muted["silence_id"] == silence["id"]
        assert _log(client, d["id"])[-1]["outcome"] == "suppressed"
        assert _metric(client, 'alerts_notifications_suppressed_at_send_total{channel="webhook"} 1.0')


def test_the_operators_redrive_requeues_dead_letters_once_and_counts_them(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with = 500
    s = settings(database_url, broker, topic_prefix, retry_budget_s=0.3)
    with running(s, {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING), ("fixed_asset_investment_total",
                                                                        Severity.WARNING)])
        dead = wait_until(lambda: len(d := client.get("/v1/dead-letters").json()) == 2 and d, what="two dead")
        receiver.fail_with = None

        def run(*args: str) -> str:
            out = io.StringIO()
            with redirect_stdout(out):
                assert redrive.main(["--database-url", database_url, *args]) == 0
            return out.getvalue().strip()

        assert run("--channel", "wecom") == "re-driven 0 of 0 dead notifications"
        assert run() == "re-driven 2 of 2 dead notifications"
        assert run() == "re-driven 0 of 0 dead notifications"  # idempotent: nothing left to re-drive
        got = receiver.wait_for(2, timeout_s=10)
        assert sorted(r.headers["Idempotency-Key"] for r in got) == sorted(d["idempotency_key"] for d in dead)
        wait_until(lambda: len(_deliveries(client, status="sent")) == 2, what="both sent")
        assert "redriven" in [a["outcome"] for a in _log(client, dead[0]["id"])]


def test_finished_notifications_are_pruned_after_their_retention_and_alerts_kept_a_year(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [d] = wait_until(lambda: _deliveries(client, status="sent"), what="sent")
        send(broker, topic_prefix, [("gdp_growth", Severity.OK)])
        [alert] = wait_until(lambda: client.get("/v1/alerts", params={"status": "resolved"}).json(), what="resolved")
        wait_until(lambda: len(_deliveries(client, status="sent")) == 2, what="the recovery sent")
        db = client.app.state.runtime.db  # type: ignore[attr-defined]
        now = client.app.state.runtime.clock()  # type: ignore[attr-defined]

        def prune(days: float) -> tuple[int, int]:
            p = Pruner(db, delivery_log_days=90, alert_days=400, interval_s=3600,
                       clock=lambda: now + timedelta(days=days))
            done = p.prune()
            return done.notifications, done.alerts

        assert prune(89) == (0, 0)
        assert prune(91) == (2, 0)  # the firing and the recovery notification, with their delivery log
        assert _deliveries(client) == [] and _log(client, d["id"]) == []
        assert client.get(f"/v1/alerts/{alert['id']}").status_code == 200  # kept for audit
        assert prune(401) == (0, 1)
        assert client.get(f"/v1/alerts/{alert['id']}").status_code == 404


def test_parts_waiting_for_a_receiver_no_longer_configured_end_in_the_log_not_in_limbo(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    env = {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}
    with running(settings(database_url, broker, topic_prefix, group_wait_s=600), env) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        rt = client.app.state.runtime  # type: ignore[attr-defined]

        def waiting() -> int:
            with rt.db.read() as repos:
                return len(repos.groups.waiting("fgw:webhook"))

        wait_until(waiting, what="a part waiting to be grouped")
    # Restarted without that webhook: the group still leaves, and is recorded as refused.
    with running(settings(database_url, broker, topic_prefix, group_wait_s=0.2), {}) as client:
        [failed] = wait_until(lambda: _deliveries(client, status="failed"), what="the group recorded as failed")
        assert "not configured any more" in failed["last_error"]
