"""Who may read and do what (issue 11 item 4), e-mail over TLS, and state changes that cannot undo a recovery."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, select

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from services.alerts import service
from services.alerts.adapters.db import Repositories
from services.alerts.adapters.tables import alerts
from services.alerts.main import create_app
from shared.db import normalise_url
from shared.messages import Severity

from .alerts_harness import CAT, LINK_SECRET, TOKENS, SmtpSink, running, send, settings, wait_until

READS = ["/v1/alerts", "/v1/alerts/x", "/v1/silences", "/v1/silences/x", "/v1/deliveries", "/v1/deliveries/1/attempts",
         "/v1/dead-letters", "/v1/directory", "/v1/directory/fgw", "/v1/routing"]


def _token(scopes: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    token = "token-" + "-".join(scopes)
    return ({"sha256": hashlib.sha256(token.encode()).hexdigest(), "scopes": scopes},
            {"Authorization": f"Bearer {token}"})


def test_reads_need_the_read_scope_and_each_write_its_own_and_who_acted_is_the_token(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    writer, writer_auth = _token(["acknowledge"])
    desk, desk_auth = _token(["read", "silence"])
    s = settings(database_url, broker, topic_prefix, api_tokens={**TOKENS, "fgw-desk": desk, "writer": writer})
    with running(s, {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        for path in READS:
            assert client.get(path, headers={"Authorization": ""}).status_code == 401, path
            assert client.get(path, headers=writer_auth).status_code == 403, path  # no read scope
            assert client.get(path, headers=desk_auth).status_code in (200, 404), path
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [alert] = wait_until(lambda: client.get("/v1/alerts").json(), what="the alert")
        body = {"explanation": "一季度重大项目开工不足", "measures": "加快重大项目审批"}
        assert client.post(f"/v1/alerts/{alert['id']}/acknowledge", json=body, headers=desk_auth).status_code == 403
        # Who acknowledged is the token, not a name the caller types.
        forged = client.post(f"/v1/alerts/{alert['id']}/acknowledge", json={**body, "by": "市长"}, headers=writer_auth)
        assert forged.status_code == 422 and "by" in forged.text
        r = client.post(f"/v1/alerts/{alert['id']}/acknowledge", json=body, headers=writer_auth)
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "writer"
        silence = {"department": "fgw", "duration_minutes": 5, "owner": "李四", "reason": "系统割接"}
        assert client.post("/v1/silences", json=silence, headers=writer_auth).status_code == 403
        made = client.post("/v1/silences", json=silence, headers=desk_auth)
        assert made.status_code == 201 and made.json()["created_by"] == "fgw-desk"
        assert client.post("/v1/dead-letters/1/resend", headers=desk_auth).status_code == 403


def test_the_link_key_cannot_be_a_webhook_secret(database_url: str, broker: TansuBroker, topic_prefix: str) -> None:
    s = settings(database_url, broker, topic_prefix, webhook_secret=LINK_SECRET,
                 default_webhook_url="http://127.0.0.1:9/hook")
    with pytest.raises(ValueError, match="ALERTS_LINK_SECRET: must not be a webhook secret"):
        create_app(s, catalogue=CAT, registry=CollectorRegistry(), env={})


@pytest.fixture
def tls_files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    yield cert, key


def test_email_over_implicit_tls_with_a_login(database_url: str, broker: TansuBroker, topic_prefix: str,
                                              tls_files: tuple[Path, Path]) -> None:
    cert, key = tls_files
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    smtp = SmtpSink(tls=server_tls, login=("alerts", "mail-password"))
    smtp.controller.start()
    try:
        s = settings(database_url, broker, topic_prefix, smtp_host="127.0.0.1", smtp_port=smtp.port,
                     smtp_from="alerts@wuxi.example", smtp_security="implicit", smtp_ca_file=cert,
                     smtp_username="alerts", smtp_password="mail-password")
        with running(s, {"NOTIFY_FGW_EMAIL_TO": "duty@fgw.example"}):
            send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
            [mail] = smtp.wait_for(1)
            assert mail["Subject"].startswith("【目标预警】") and smtp.logins == ["alerts"]
    finally:
        smtp.controller.stop()


def test_acknowledging_an_alert_resolved_meanwhile_does_not_reopen_it(
        database_url: str, broker: TansuBroker, topic_prefix: str, receiver: Receiver) -> None:
    with running(settings(database_url, broker, topic_prefix), {"NOTIFY_FGW_WEBHOOK_URL": receiver.url}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        [alert] = wait_until(lambda: client.get("/v1/alerts").json(), what="the alert")
        send(broker, topic_prefix, [("gdp_growth", Severity.OK)])
        wait_until(lambda: client.get("/v1/alerts", params={"status": "resolved"}).json(), what="resolved")
        engine = create_engine(normalise_url(database_url))
        try:
            with engine.begin() as conn:
                repos = Repositories.on(conn)
                stale = {**dict(repos.alerts.get(alert["id"])._mapping), "status": "firing"}  # type: ignore[union-attr]

                class Stale:
                    """The read the acknowledgement made just before the recovery committed."""

                    def __getattr__(self, name: str) -> Any:
                        return getattr(repos.alerts, name)

                    def get(self, alert_id: str) -> Any:
                        return type("Row", (), stale)

                with pytest.raises(service.Conflict):
                    service.acknowledge(Repositories(Stale(), repos.notifications, repos.silences,  # type: ignore[arg-type]
                                                     repos.groups), alert["id"], by="ops", explanation="原因",
                                        measures="措施", now=client.app.state.runtime.clock())  # type: ignore[attr-defined]
            with engine.connect() as conn:
                assert conn.execute(select(alerts.c.status).where(alerts.c.id == alert["id"])).scalar() == "resolved"
        finally:
            engine.dispose()
