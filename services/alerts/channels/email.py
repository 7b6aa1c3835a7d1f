"""E-mail over SMTP (stdlib smtplib): one message per notification, its Message-ID made from the idempotency key.

Transport security is one of ``none`` (a relay on the local network, port 25), ``starttls`` (port 587) or
``implicit`` (TLS from the first byte, port 465). A login over a connection without TLS would send the
password in the clear: it is refused unless ALERTS_SMTP_ALLOW_PLAINTEXT_LOGIN says otherwise.

SMTP 4xx replies and lost connections before the message went out are retried; 5xx replies are not. A
connection lost or timed out after the message's final dot, before the server's reply, is ambiguous: the
server may have queued it, and mailboxes do not reliably drop repeats by Message-ID.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from enum import StrEnum

from services.alerts.channels.base import DeliveryResult, Destination, Message
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.templates import greeting, group_title, part_text
from services.alerts.domain.text import clean

FOOTER = "（本邮件由无锡市2024年政府工作报告目标监测系统自动发送，请勿直接回复。）"


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected."""

    NONE = "none"
    STARTTLS = "starttls"
    IMPLICIT = "implicit"  # SMTPS, port 465


class EmailChannel:
    """Renders a Chinese subject and text; sends the stored ``{"subject", "text"}`` to the destination's addresses."""

    type = ChannelType.EMAIL

    def __init__(self, *, host: str | None, port: int, sender: str | None, username: str | None = None,
                 password: str | None = None, security: SmtpSecurity = SmtpSecurity.NONE,
                 allow_plaintext_login: bool = False, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.security = security
        self.allow_plaintext_login = allow_plaintext_login
        self.ssl_context = ssl_context or ssl.create_default_context()

    def render(self, message: Message) -> str:
        """The subject and the plain text."""
        parts = message.parts
        title = group_title([p.kind for p in parts], [p.event.target_name_zh for p in parts])
        text = "\n\n".join([greeting(message.department_zh), *(part_text(p) for p in parts), FOOTER])
        return json.dumps({"subject": title, "text": text}, ensure_ascii=False, separators=(",", ":"))

    def _connect(self, timeout_s: float) -> smtplib.SMTP:
        assert self.host is not None
        if self.security == SmtpSecurity.IMPLICIT:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=timeout_s, context=self.ssl_context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=timeout_s)
        if self.security == SmtpSecurity.STARTTLS:
            smtp.starttls(context=self.ssl_context)
        return smtp

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One SMTP transaction."""
        if not self.host or not self.sender:
            return DeliveryResult(False, False, None, "e-mail is not configured (ALERTS_SMTP_HOST, ALERTS_SMTP_FROM)")
        login = bool(self.username and self.password)
        if login and self.security == SmtpSecurity.NONE and not self.allow_plaintext_login:
            return DeliveryResult(False, False, None, "SMTP login without TLS refused (ALERTS_SMTP_SECURITY)")
        doc = json.loads(payload)
        msg = EmailMessage()
        msg["From"] = self.sender
        recipients = [a.strip() for a in dest.address.split(",") if a.strip()]
        msg["To"] = ", ".join(recipients)
        msg["Subject"] = doc["subject"]
        msg["Date"] = formatdate(localtime=False)
        # Mail stores that drop repeats do it by Message-ID; it stays the same across retries.
        msg["Message-ID"] = f"<{idempotency_key}@alerts.wuxi-targets>"
        msg["Idempotency-Key"] = idempotency_key
        msg.set_content(doc["text"], charset="utf-8")
        in_data = False
        try:
            with self._connect(timeout_s) as smtp:
                if login:
                    smtp.login(self.username or "", self.password or "")
                smtp.ehlo_or_helo_if_needed()
                code, resp = smtp.mail(self.sender)
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, resp, self.sender)
                refused: dict[str, tuple[int, bytes]] = {}
                for rcpt in recipients:
                    code, resp = smtp.rcpt(rcpt)
                    if code not in (250, 251):
                        refused[rcpt] = (code, resp)
                if len(refused) == len(recipients):
                    smtp.rset()
                    raise smtplib.SMTPRecipientsRefused(refused)
                # SMTP wants CRLF line ends, and data() leaves bytes as they are.
                in_data = True  # from here a lost connection may come after the server queued the message
                code, resp = smtp.data(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
                in_data = False
                if code != 250:
                    raise smtplib.SMTPDataError(code, resp)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            return DeliveryResult(False, all(400 <= c < 500 for c in codes), codes[0] if codes else None,
                                  clean(f"recipients refused: {exc.recipients!r}"))
        except smtplib.SMTPResponseException as exc:
            return DeliveryResult(False, 400 <= exc.smtp_code < 500, exc.smtp_code,
                                  clean(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"))
        except (smtplib.SMTPException, OSError) as exc:  # connection refused or lost, timeouts, TLS failures
            return DeliveryResult(False, True, None, clean(f"{type(exc).__name__}: {exc}"), ambiguous=in_data)
        if refused:
            return DeliveryResult(False, False, 250, clean(f"some recipients refused: {refused!r}"))
        return DeliveryResult(True, False, 250)
