"""Grouping, delivery under failure, dead letters, acknowledgement, escalation and silences, in-process."""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from kafka import KafkaConsumer, TopicPartition

from devstack.broker import TansuBroker
from devstack.idle import alerts_backlog
from devstack.receiver import Receiver
from shared.messages import NotificationDeadLettered, Severity

from .alerts_harness import AUTH, CAT, consumed, producer, running, send, settings, wait_settled, wait_until

FGW_TARGETS = [t.id for t in CAT.targets.values() if t.lead_department == "fgw" and "stats" in t.co_departments][:8]


def test_a_burst_reaches_each_department_as_one_grouped_notification_per_channel(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/hook/fgw", "NOTIFY_FGW_WECOM_URL": f"{receiver.url}/wecom/fgw",
           "NOTIFY_STATS_WEBHOOK_URL": f"{receiver.url}/hook/stats"}
    s = settings(database_url, broker, topic_prefix, group_wait_s=1.0, group_interval_s=30)
    with running(s, env) as client:
        send(broker, topic_prefix, [(t, Severity.WARNING) for t in FGW_TARGETS])
        got = receiver.wait_for(3)
        wait_settled(client, database_url, len(FGW_TARGETS))  # nothing left to send: a second group is not coming
        assert sorted(r.path for r in receiver.requests) == ["/hook/fgw", "/hook/stats", "/wecom/fgw"]
        fgw = next(r for r in got if r.path == "/hook/fgw").json()
        assert fgw["kind"] == "firing" and len(fgw["alerts"]) == len(FGW_TARGETS)
        assert f"等{len(FGW_TARGETS)}项目标（新增预警{len(FGW_TARGETS)}项）" in fgw["title"]
        wecom = next(r for r in got if r.path == "/wecom/fgw").json()["markdown"]["content"]
        assert wecom.count("#### 【目标预警】") >= 2
        # Recoveries inside group_interval wait for it: nothing more arrives yet.
        send(broker, topic_prefix, [(FGW_TARGETS[0], Severity.OK)])
        wait_until(lambda: consumed(client) >= len(FGW_TARGETS) + 1, what="the recovery consumed")
        # Held for the group interval, one item per receiver (two for 市发展改革委, one for 市统计局), not sent.
        assert alerts_backlog(database_url) == {"ungrouped items": 3, "pending notifications": 0}
        assert len(receiver.requests) == 3


def test_a_receiver_down_holds_up_no_one_and_gets_its_backlog_on_return_once(
        database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    down, up = Receiver(fail_with=503).start(), Receiver(delay_s=0).start()
    try:
        env = {"NOTIFY_FGW_WEBHOOK_URL": f"{down.url}/fgw", "NOTIFY_STATS_WEBHOOK_URL": f"{up.url}/stats"}
        s = settings(database_url, broker, topic_prefix, retry_max_s=0.5)
        with running(s, env) as client:
            started = time.time()
            send(broker, topic_prefix, [(t, Severity.WARNING) for t in FGW_TARGETS])
            assert len(up.wait_for(len(FGW_TARGETS), timeout_s=10)) == len(FGW_TARGETS)  # not held up

            def attempts_to_fgw() -> int:
                return sum(len(client.get(f"/v1/deliveries/{d['id']}/attempts").json())
                           for d in client.get("/v1/deliveries", params={"department": "fgw"}).json())

            attempts = wait_until(lambda: (n := attempts_to_fgw()) >= 3 and n, what="three probes of the receiver")
            # One probe at a time, at least half the backoff apart (0.25 s once capped): retrying each
            # notification on its own would make len(FGW_TARGETS) times as many.
            assert attempts <= 5 + (time.time() - started) / 0.25, attempts
            down.fail_with = None
            t0 = time.time()
            got = down.wait_for(len(FGW_TARGETS), timeout_s=10)
            assert len(got) == len(FGW_TARGETS) and max(r.at for r in got) - t0 < 5
            wait_settled(client, database_url, len(FGW_TARGETS))
            keys = down.idempotency_keys()
            assert len(keys) == len(set(keys)) == len(FGW_TARGETS)
    finally:
        down.stop()
        up.stop()


def test_exhausted_retries_dead_letter_to_kafka_and_resend_through_the_api(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    receiver.fail_with = 500
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/fgw"}
    with running(settings(database_url, broker, topic_prefix, retry_budget_s=0.5), env) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [dead] = wait_until(lambda: client.get("/v1/dead-letters").json(), what="a dead letter")
        assert dead["attempts"] >= 2 and "HTTP 500" in dead["last_error"]
        consumer = KafkaConsumer(bootstrap_servers=[broker.bootstrap], auto_offset_reset="earliest",
                                 consumer_timeout_ms=200)
        tps = [TopicPartition(f"{topic_prefix}.notifications.dlq", p) for p in range(2)]
        consumer.assign(tps)
        events = wait_until(lambda: [json.loads(m.value) for m in consumer], what="the .dlq event")
        consumer.close()
        assert events[0]["type"] == NotificationDeadLettered.event_type
        assert events[0]["data"]["idempotency_key"] == dead["idempotency_key"]
        assert client.post(f"/v1/dead-letters/{dead['id']}/resend").status_code == 403  # a read-only token
        receiver.fail_with = None
        r = client.post(f"/v1/dead-letters/{dead['id']}/resend", headers=AUTH)
        assert r.status_code == 200 and r.json()["status"] == "pending"
        [got] = receiver.wait_for(1)
        assert got.headers["Idempotency-Key"] == dead["idempotency_key"]
        assert 'alerts_dead_letters_total{channel="webhook"} 1.0' in client.get("/metrics").text


def test_a_client_error_is_not_retried(database_url: str, broker: TansuBroker, topic_prefix: str,
                                       receiver: Receiver) -> None:
    receiver.fail_with = 400
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [d] = wait_until(lambda: client.get("/v1/deliveries", params={"status": "failed"}).json(), what="failed")
        wait_settled(client, database_url, 1)  # nothing pending: no retry is coming
        assert client.get(f"/v1/deliveries/{d['id']}/attempts").json()[-1]["outcome"] == "failed"
        assert len(client.get(f"/v1/deliveries/{d['id']}/attempts").json()) == 1


def test_the_same_event_twice_notifies_once(database_url: str, broker: TansuBroker, topic_prefix: str,
                                            receiver: Receiver) -> None:
    """A redelivered event is dropped by its id (counted as a duplicate), and nobody is notified again.

    Checked by breaking shared/inbox.py: with Inbox.already_processed answering nothing and mark_processed
    recording nothing, the duplicate count is 0 and the test fails. (With only the lookup off, the primary key
    of processed_events still refuses the repeat, which then counts as a duplicate; and the lifecycle ignores a
    repeat older than the resolution, so the notifications alone could not tell.)"""
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        [firing] = send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        receiver.wait_for(1)
        send(broker, topic_prefix, [("gdp_growth", Severity.OK)])
        receiver.wait_for(2)
        p = producer(broker)
        p.send(f"{topic_prefix}.deviations", key=b"gdp", value=firing.model_dump_json(exclude_none=True).encode())
        p.flush()
        p.close()

        def consumed(outcome: str) -> float:
            pattern = r'consumer_messages_total\{[^}]*outcome="' + outcome + r'"[^}]*\} ([0-9.]+)'
            return sum(float(n) for n in re.findall(pattern, client.get("/metrics").text))

        wait_until(lambda: consumed("processed") + consumed("duplicate") >= 3,
                   what="the repeated event to be consumed")  # after it, not a sleep
        # A notification it had caused would be pending from the same commit: wait until none is left to send.
        wait_until(lambda: not client.get("/v1/deliveries", params={"status": "pending"}).json(),
                   what="no notification left to send")
        assert consumed("duplicate") == 1 and consumed("processed") == 2
        assert [r.json()["kind"] for r in receiver.requests] == ["firing", "resolved"]


def test_ack_by_signed_link_stops_escalation_and_an_unacknowledged_critical_alert_climbs_the_chain(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/fgw", "NOTIFY_SWJ_WEBHOOK_URL": f"{receiver.url}/swj",
           "NOTIFY_GOV_OFFICE_WEBHOOK_URL": f"{receiver.url}/gov"}
    s = settings(database_url, broker, topic_prefix, escalate_after_s=1.5)
    with running(s, env) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.CRITICAL), ("retail_sales_growth", Severity.CRITICAL)])
        got = receiver.wait_for(2)
        fgw = next(r for r in got if r.path == "/fgw").json()
        link = re.search(r"http://alerts\.test(/v1/ack/\S+)", fgw["text"]).group(1)  # type: ignore[union-attr]
        page = client.get(link)
        assert page.status_code == 200 and "整改措施" in page.text and "<form" in page.text
        forged = link.replace("department=fgw", "department=swj")
        assert client.get(forged).status_code == 403
        # A person in a browser reads why, in Chinese; an API client gets problem details.
        html_page = client.get(forged, headers={"Accept": "text/html,application/xhtml+xml"})
        assert html_page.status_code == 403 and html_page.headers["content-type"].startswith("text/html")
        assert "链接无效" in html_page.text and "请从预警通知中重新打开确认链接" in html_page.text
        assert client.get(forged).headers["content-type"] == "application/problem+json"
        empty = client.post(link, content="by=x", headers={"Content-Type": "application/x-www-form-urlencoded",
                                                           "Accept": "text/html"})
        assert empty.status_code == 422 and "请填写原因说明" in empty.text and "请填写整改措施" in empty.text
        form = urllib.parse.urlencode({"by": "张三（综合处处长）", "explanation": "一季度重大项目开工不足",
                                       "measures": "加快重大项目审批，二季度新开工项目30个"})
        r = client.post(link, content=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 200 and "已确认" in r.text
        [acked] = client.get("/v1/alerts", params={"status": "acknowledged"}).json()
        assert acked["target_id"] == "gdp_growth" and acked["ack_measures"].startswith("加快重大项目审批")
        assert acked["acknowledged_by"] == "张三（综合处处长）（市发展改革委）"
        again = client.get(link)  # the page says when, in Beijing time, and by whom
        assert re.search(r"已于\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}（北京时间）由张三", again.text), again.text
        # retail_sales_growth (市商务局) was not acknowledged: 市政府办公室 is told, once.
        [gov] = receiver.wait_for(3, path_prefix="/gov", timeout_s=10)
        doc = gov.json()
        assert doc["kind"] == "overdue" and doc["event"]["target_id"] == "retail_sales_growth"
        assert "【逾期未确认·提级督办】" in doc["title"] and "提请市政府办公室督促市商务局" in doc["text"]
        time.sleep(2.0)
        assert len([r for r in receiver.requests if r.path == "/gov"]) == 1  # top of the chain: no further step
        [open_alert] = client.get("/v1/alerts", params={"status": "firing"}).json()
        assert open_alert["escalation_level"] == 1
        # The API acknowledges too (with a token), and a resolved alert cannot be acknowledged.
        body = {"explanation": "消费恢复偏慢", "measures": "发放消费券，举办促消费活动"}
        assert client.post(f"/v1/alerts/{open_alert['id']}/acknowledge", json=body).status_code == 403
        r = client.post(f"/v1/alerts/{open_alert['id']}/acknowledge", json=body, headers=AUTH)
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "ops"
        send(broker, topic_prefix, [("gdp_growth", Severity.OK)])
        wait_until(lambda: client.get("/v1/alerts", params={"status": "resolved"}).json(), what="a recovery")
        assert client.post(link, content=form,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 409
        recovery = receiver.wait_for(5, timeout_s=10)
        assert any(r.json()["kind"] == "resolved" for r in recovery)


def test_silences_mute_by_department_are_recorded_and_expire(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/fgw", "NOTIFY_STATS_WEBHOOK_URL": f"{receiver.url}/stats"}
    with running(settings(database_url, broker, topic_prefix), env) as client:
        body = {"department": "fgw", "duration_minutes": 0.05, "owner": "李四", "reason": "系统割接，临时静默"}
        assert client.post("/v1/silences", json=body).status_code == 403
        bad = client.post("/v1/silences", json={**body, "department": None}, headers=AUTH)
        assert bad.status_code == 422 and "at least one of" in bad.text
        assert client.post("/v1/silences", json={**body, "department": "nope"}, headers=AUTH).status_code == 422
        r = client.post("/v1/silences", json=body, headers=AUTH)
        assert r.status_code == 201 and r.json()["active"] is True
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        receiver.wait_for(1, path_prefix="/stats")
        [muted] = wait_until(lambda: client.get("/v1/deliveries", params={"status": "suppressed"}).json(),
                             what="a suppressed notification")
        assert muted["department"] == "fgw" and muted["silence_id"] == r.json()["id"]
        time.sleep(3.1)  # the silence (3 s) expires by itself
        assert client.get("/v1/silences", params={"active": True}).json() == []
        send(broker, topic_prefix, [("fixed_asset_investment_total", Severity.WARNING)])
        assert receiver.wait_for(1, path_prefix="/fgw")
        assert [x.path for x in receiver.requests].count("/fgw") == 1


def test_alerts_are_filtered_by_status_and_department_and_the_directory_is_listed(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WECOM_URL": "http://x/wecom"}) as c:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING), ("retail_sales_growth", Severity.CRITICAL)])
        wait_until(lambda: len(c.get("/v1/alerts").json()) == 2, what="two alerts")
        assert [a["target_id"] for a in c.get("/v1/alerts", params={"department": "fgw"}).json()] == ["gdp_growth"]
        assert len(c.get("/v1/alerts", params={"department": "stats", "status": "firing"}).json()) == 2
        assert c.get("/v1/alerts", params={"status": "bogus"}).status_code == 422
        fgw = c.get("/v1/directory/fgw").json()
        assert fgw["name_zh"] == "市发展改革委" and fgw["parent"] == "gov_office"
        wecom = next(ch for ch in fgw["channels"] if ch["type"] == "wecom")
        assert wecom == {"type": "wecom", "address_env": "NOTIFY_FGW_WECOM_URL", "secret_env": None,
                         "enabled": True, "configured": True}
        assert "http://x" not in json.dumps(c.get("/v1/directory").json())  # addresses are never shown
        assert c.get("/v1/routing").json()["rule"][0]["add_departments"] == ["supervision"]
