"""README/SECURITY.md promises about e-mail, against a real SMTP server (aiosmtpd) on loopback.

- ``ALERTS_SMTP_SECURITY=starttls``: the login and the message travel only after STARTTLS (SECURITY.md: "a login
  never travels without TLS");
- "``Message-ID`` from the idempotency key": a notification retried after a 4xx carries the same Message-ID.
"""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from devstack.broker import TansuBroker, free_port
from shared.messages import Severity

from .alerts_harness import running, send, settings, wait_until

USER, PASSWORD = "alerts", "mail-password-s3cret"


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made now (the cryptography package is not installed: openssl)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


class StartTlsServer:
    """aiosmtpd on loopback offering STARTTLS and AUTH; records, per command, whether the session was encrypted.

    ``require_starttls`` is off on purpose: a client that skipped STARTTLS must be *seen* sending in the clear
    (recorded in ``plain``), not merely refused by the server.
    """

    def __init__(self, tls: ssl.SSLContext, *, refuse_first: int = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.data_message_ids: list[str] = []  # every DATA, refused ones included
        self.logins: list[tuple[str, bool]] = []  # (user, over TLS)
        self.plain: list[str] = []  # commands that carried a login or a message without TLS
        self.refuse_first = refuse_first
        self.port = free_port()

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
            encrypted = session.ssl is not None
            self.logins.append((auth.login.decode(), encrypted))
            if not encrypted:
                self.plain.append("AUTH")
            return AuthResult(success=(auth.login.decode(), auth.password.decode()) == (USER, PASSWORD))

        # auth_require_tls=False so that a plaintext login is observable instead of refused up front.
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, tls_context=tls,
                                     authenticator=authenticate, auth_required=True, auth_require_tls=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if session.ssl is None:
            self.plain.append("DATA")
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.data_message_ids.append(str(mail["Message-ID"]))
        if self.refuse_first > 0:
            self.refuse_first -= 1
            return "451 4.3.0 try again later"
        self.messages.append(mail)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture
def server_tls(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    cert, key = tls_files
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'alerts.sqlite'}"


def _smtp_settings(url: str, broker: TansuBroker, prefix: str, port: int, cert: Path, **over: Any) -> Any:
    return settings(url, broker, prefix, smtp_host="127.0.0.1", smtp_port=port, smtp_from="alerts@wuxi.example",
                    smtp_security="starttls", smtp_ca_file=cert, smtp_username=USER, smtp_password=PASSWORD, **over)


@pytest.fixture
def starttls_server(server_tls: ssl.SSLContext) -> Iterator[StartTlsServer]:
    s = StartTlsServer(server_tls)
    s.controller.start()
    yield s
    s.controller.stop()


def test_starttls_is_used_before_the_login_and_the_message(
        database_url: str, broker: TansuBroker, topic_prefix: str, tls_files: tuple[Path, Path],
        starttls_server: StartTlsServer) -> None:
    cert, _ = tls_files
    s = _smtp_settings(database_url, broker, topic_prefix, starttls_server.port, cert)
    with running(s, {"NOTIFY_FGW_EMAIL_TO": "duty@fgw.example"}) as client:
        send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
        wait_until(lambda: starttls_server.messages, what="the e-mail")
        [d] = wait_until(lambda: client.get("/v1/deliveries", params={"status": "sent"}).json(), what="sent")
    assert d["channel"] == "email"
    assert starttls_server.logins == [(USER, True)]  # logged in, once, over TLS
    assert starttls_server.plain == []  # neither the password nor the message went in the clear
    assert starttls_server.messages[0]["Subject"].startswith("【目标预警】")


def test_a_notification_retried_after_a_4xx_keeps_its_message_id_made_from_the_idempotency_key(
        sqlite_url: str, broker: TansuBroker, topic_prefix: str, tls_files: tuple[Path, Path],
        server_tls: ssl.SSLContext) -> None:
    cert, _ = tls_files
    smtp = StartTlsServer(server_tls, refuse_first=2)
    smtp.controller.start()
    try:
        s = _smtp_settings(sqlite_url, broker, topic_prefix, smtp.port, cert)
        with running(s, {"NOTIFY_FGW_EMAIL_TO": "duty@fgw.example"}) as client:
            send(broker, topic_prefix, [("gdp_growth", Severity.WARNING)])
            wait_until(lambda: smtp.messages, what="the e-mail accepted on the third attempt")
            [d] = wait_until(lambda: client.get("/v1/deliveries", params={"status": "sent"}).json(), what="sent")
    finally:
        smtp.controller.stop()
    assert len(smtp.data_message_ids) == 3 and d["attempts"] == 3
    assert set(smtp.data_message_ids) == {f"<{d['idempotency_key']}@alerts.wuxi-targets>"}
