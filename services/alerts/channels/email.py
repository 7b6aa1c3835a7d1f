"""E-mail over SMTP (stdlib smtplib): one message per notification, its Message-ID made from the idempotency key.

SMTP 4xx replies and lost connections are retried; 5xx replies (unknown mailbox, rejected) are not.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from services.alerts.channels.base import DeliveryResult, Destination


class EmailNotifier:
    """Sends the stored ``{"subject", "text"}`` to the destination's addresses."""

    def __init__(self, *, host: str | None, port: int, sender: str | None, username: str | None = None,
                 password: str | None = None, starttls: bool = False) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls

    def send(self, dest: Destination, payload: bytes, *, idempotency_key: str, timeout_s: float) -> DeliveryResult:
        """One SMTP transaction."""
        if not self.host or not self.sender:
            return DeliveryResult(False, False, None, "e-mail is not configured (ALERTS_SMTP_HOST, ALERTS_SMTP_FROM)")
        doc = json.loads(payload)
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(a.strip() for a in dest.address.split(",") if a.strip())
        msg["Subject"] = doc["subject"]
        msg["Date"] = formatdate(localtime=False)
        # Receivers and mail stores drop repeats by Message-ID; it stays the same across retries.
        msg["Message-ID"] = f"<{idempotency_key}@alerts.wuxi-targets>"
        msg["Idempotency-Key"] = idempotency_key
        msg.set_content(doc["text"], charset="utf-8")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            return DeliveryResult(False, 400 <= exc.smtp_code < 500, exc.smtp_code, f"SMTP {exc.smtp_code}: "
                                  f"{exc.smtp_error!r}"[:300])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [c for c, _ in exc.recipients.values()]
            return DeliveryResult(False, all(400 <= c < 500 for c in codes), codes[0] if codes else None,
                                  f"recipients refused: {exc.recipients!r}"[:300])
        except (smtplib.SMTPException, OSError) as exc:  # connection refused or lost, timeouts
            return DeliveryResult(False, True, None, f"{type(exc).__name__}: {exc}"[:300])
        if refused:
            return DeliveryResult(False, False, 250, f"some recipients refused: {refused!r}"[:300])
        return DeliveryResult(True, False, 250)
