"""The alerts app in-process against the session's real broker, a real database, real HTTP and SMTP receivers."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from devstack.broker import TansuBroker, free_port
from devstack.deviations import deviation, publish
from devstack.idle import alerts_idle, consumed_events
from services.alerts.config import AlertsSettings
from services.alerts.main import create_app
from shared.catalogue import load_catalogue
from shared.messages import Envelope, Severity

CAT = load_catalogue()
SECRET = "integration-webhook-secret"
LINK_SECRET = "integration-link-secret-0123456789"
TOKEN = "test-operator-token"
READ_TOKEN = "test-reader-token"
TOKENS: dict[str, Any] = {
    "ops": hashlib.sha256(TOKEN.encode()).hexdigest(),  # the earlier form: every scope
    "reader": {"sha256": hashlib.sha256(READ_TOKEN.encode()).hexdigest(), "scopes": ["read"]},
}
AUTH = {"Authorization": f"Bearer {TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
# A few targets led by 市发展改革委 alone: one webhook receiver gets them all.
FGW_TARGETS_SAMPLE = [t.id for t in CAT.targets.values() if t.lead_department == "fgw"][:5]


def webhook_secret(department: str) -> str:
    """The signing secret the harness gives a department's directory webhook (each its own)."""
    return f"{SECRET}-{department}"


def with_webhook_secrets(env: dict[str, str]) -> dict[str, str]:
    """``env`` plus NOTIFY_<DEPT>_WEBHOOK_SECRET for every NOTIFY_<DEPT>_WEBHOOK_URL that has none."""
    out = dict(env)
    for k in env:
        if k.startswith("NOTIFY_") and k.endswith("_WEBHOOK_URL"):
            dept = k[len("NOTIFY_"):-len("_WEBHOOK_URL")].lower()
            out.setdefault(f"NOTIFY_{dept.upper()}_WEBHOOK_SECRET", webhook_secret(dept))
    return out


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback recording messages; ``refuse_with`` answers an error,
    ``delay_s`` answers the final dot late (after keeping the message), ``tls`` speaks TLS from the first byte
    (port 465 style) and ``login`` wants that user and password."""

    def __init__(self, *, tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[str] = []
        self.refuse_with: str | None = None
        self.delay_s = 0.0
        self.port = free_port()
        server_kwargs: dict[str, Any] = {}
        if login is not None:
            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> AuthResult:
                ok = (auth.login.decode(), auth.password.decode()) == login
                if ok:
                    self.logins.append(auth.login.decode())
                return AuthResult(success=ok)

            # aiosmtpd counts only STARTTLS as TLS; with implicit TLS the whole session is encrypted already.
            server_kwargs = {"authenticator": authenticate, "auth_required": True,
                             "auth_require_tls": tls is None}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ssl_context=tls, **server_kwargs)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return "250 Message accepted for delivery"

    def wait_for(self, n: int, timeout_s: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def settings(database_url: str, broker: TansuBroker, topic_prefix: str, **over: Any) -> AlertsSettings:
    base: dict[str, Any] = dict(
        database_url=database_url, kafka_bootstrap_servers=broker.bootstrap, topic_prefix=topic_prefix,
        consumer_group=f"alerts-{topic_prefix}",  # its own group: never joins another test's on the shared broker
        topic_partitions=2, kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500,
        webhook_secret=SECRET, link_secret=LINK_SECRET, public_url="http://alerts.test", api_tokens=TOKENS,
        retry_base_s=0.05,
        retry_max_s=0.3, dispatch_poll_interval_s=0.1, lifecycle_interval_s=0.2, repeat_interval_s=0,
        escalate_after_s=0, delivery_timeout_s=2,
        deadlines_in="calendar",  # the tests' deadlines are seconds of real time, also on weekends and holidays
    )
    base.update(over)
    return AlertsSettings(**base)


@contextmanager
def running(s: AlertsSettings, env: dict[str, str], **kw: Any) -> Iterator[TestClient]:
    """The app with its loops, until the block ends; waits until the consumer has joined its group.

    The client sends a read-only token unless a request gives its own ``Authorization``.
    """
    app = create_app(s, catalogue=CAT, env=with_webhook_secrets(env), **kw)
    with TestClient(app, headers=READ) as client:
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        yield client


def producer(broker: TansuBroker) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=[broker.bootstrap], acks="all")


def send(broker: TansuBroker, prefix: str, items: list[tuple[str, Severity]]) -> list[Envelope]:
    """Publish a deviation per (target, severity)."""
    p = producer(broker)
    try:
        return publish(p, prefix, [deviation(CAT, t, sev) for t, sev in items])
    finally:
        p.close()


def wait_until(cond: Callable[[], Any], timeout_s: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def consumed(client: TestClient) -> float:
    """Deviation events the app's consumer has finished with (handled or dropped as a duplicate)."""
    return consumed_events(client.get("/metrics").text)


def wait_settled(client: TestClient, database_url: str, events: int, timeout_s: float = 20.0) -> None:
    """Wait until the app has provably nothing left to send: ``events`` events consumed, no item waiting for
    its group, no notification pending, none held by the dispatcher. Counting after this counts everything, so
    "nothing more arrives" needs no sleep."""
    wait_until(lambda: alerts_idle(client.get("/metrics").text, database_url, events), timeout_s=timeout_s,
               what=f"the alerts service idle after {events} events")
