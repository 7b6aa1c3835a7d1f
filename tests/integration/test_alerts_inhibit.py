"""Inhibition through the real pipeline: real broker, real SQLite/PostgreSQL, a real HTTP receiver, in-process.

The shipped rule: while 固定资产投资 (a headline target) is critical, the warnings of the targets feeding it (the
catalogue's feeds, e.g. 市重大产业项目完成投资) are recorded as inhibited and not sent.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from shared.messages import Severity

from .alerts_harness import running, send, settings, wait_until

HEADLINE = "fixed_asset_investment_total"  # lead fgw, co stats
FEEDER = "major_project_investment"  # lead fgw, feeds HEADLINE
OTHER = "major_project_industrial_investment"  # also feeds HEADLINE
RULE = "headline-critical-holds-feeder-warnings"


def _alert_id(client: TestClient, target: str) -> str:
    alerts = client.get("/v1/alerts", params={"status": "open"}).json()
    return next((a["id"] for a in alerts if a["target_id"] == target), "")


def _deliveries(client: TestClient, alert_id: str, **params: str) -> list[dict[str, Any]]:
    return [d for d in client.get("/v1/deliveries", params={"alert_id": alert_id, **params}).json()]


def _alert_ids_received(receiver: Receiver) -> list[str]:
    return [a["alert_id"] for r in receiver.requests for a in r.json()["alerts"]]


def test_a_feeders_warning_is_recorded_inhibited_and_not_sent_while_its_headline_target_is_critical(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    registry = CollectorRegistry()
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/hook/fgw"}
    with running(settings(database_url, broker, topic_prefix), env, registry=registry) as client:
        send(broker, topic_prefix, [(HEADLINE, Severity.CRITICAL)])
        source = wait_until(lambda: _alert_id(client, HEADLINE), what="the headline alert")
        send(broker, topic_prefix, [(FEEDER, Severity.WARNING)])
        target = wait_until(lambda: _alert_id(client, FEEDER), what="the feeder's alert")
        [held] = wait_until(lambda: _deliveries(client, target), what="the feeder's notification")
        assert held["status"] == "inhibited"
        assert (held["inhibited_by"], held["inhibit_rule"], held["department"]) == (source, RULE, "fgw")
        assert _deliveries(client, target, status="inhibited") == [held]
        assert registry.get_sample_value("alerts_notifications_inhibited_total", {"rule": RULE}) == 1.0
        # The source itself is delivered; an inhibited notification is never picked up (only pending ones are),
        # so its state is final: the receiver has the source and nothing about the feeder.
        wait_until(lambda: any(d["status"] == "sent" for d in _deliveries(client, source)), what="source sent")
        assert source in _alert_ids_received(receiver) and target not in _alert_ids_received(receiver)
        assert client.get(f"/v1/deliveries/{held['id']}/attempts").json() == []


def test_a_feeder_is_told_again_at_its_next_reminder_once_the_headline_target_recovers(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    # Alertmanager's semantics: the target notifies at its next evaluation after the source resolved. Here that
    # is the alert's next reminder (every repeat interval), or its next change of status.
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/hook/fgw"}
    s = settings(database_url, broker, topic_prefix, repeat_interval_s=1.0)
    with running(s, env) as client:
        send(broker, topic_prefix, [(HEADLINE, Severity.CRITICAL)])
        source = wait_until(lambda: _alert_id(client, HEADLINE), what="the headline alert")
        send(broker, topic_prefix, [(FEEDER, Severity.WARNING)])
        target = wait_until(lambda: _alert_id(client, FEEDER), what="the feeder's alert")
        # Its reminders are held back too while the headline target stays critical.
        wait_until(lambda: any(d["kind"] == "reminder" for d in _deliveries(client, target)), what="a reminder")
        assert {d["status"] for d in _deliveries(client, target)} == {"inhibited"}
        send(broker, topic_prefix, [(HEADLINE, Severity.OK)])
        wait_until(lambda: client.get(f"/v1/alerts/{source}").json()["status"] == "resolved", what="recovery")
        reminded = wait_until(lambda: [r for r in receiver.requests if r.json()["alert_id"] == target],
                              timeout_s=20, what="the feeder's next reminder, delivered")
        assert reminded[0].json()["kind"] == "reminder"
        sent = [d for d in _deliveries(client, target) if d["status"] != "inhibited"]
        assert sent and all(d["kind"] == "reminder" and d["inhibited_by"] is None for d in sent)


def test_only_the_feeders_of_a_critical_headline_target_are_held_back(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    env = {"NOTIFY_FGW_WEBHOOK_URL": f"{receiver.url}/hook/fgw"}
    with running(settings(database_url, broker, topic_prefix, group_wait_s=0.3, group_interval_s=0.3), env) as client:
        # While the headline target is only a warning, its feeders are told (grouped, as usual).
        send(broker, topic_prefix, [(HEADLINE, Severity.WARNING), (FEEDER, Severity.WARNING)])
        feeder = wait_until(lambda: _alert_id(client, FEEDER), what="the feeder's alert")
        wait_until(lambda: feeder in _alert_ids_received(receiver), what="the feeder told")
        # Critical now: a second feeder's warning is held back; a target feeding nothing (gdp_growth, another
        # headline target) and the critical headline target itself are not.
        send(broker, topic_prefix, [(HEADLINE, Severity.CRITICAL)])
        wait_until(lambda: any(d["kind"] == "escalated" for d in _deliveries(client, _alert_id(client, HEADLINE))),
                   what="the escalation queued")
        send(broker, topic_prefix, [(OTHER, Severity.WARNING), ("gdp_growth", Severity.WARNING)])
        other = wait_until(lambda: _alert_id(client, OTHER), what="the second feeder's alert")
        gdp = wait_until(lambda: _alert_id(client, "gdp_growth"), what="gdp's alert")
        [held] = wait_until(lambda: _deliveries(client, other), what="the second feeder's notification")
        assert held["status"] == "inhibited" and held["inhibited_by"] == _alert_id(client, HEADLINE)
        wait_until(lambda: gdp in _alert_ids_received(receiver), what="gdp told")
        assert {d["status"] for d in _deliveries(client, gdp)} <= {"pending", "sent"}
        assert other not in _alert_ids_received(receiver)
