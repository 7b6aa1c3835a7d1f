"""Signed acknowledgement links: the link itself is the credential, for one alert and one department, until expiry.

signature = hex(HMAC-SHA256(key, f"{alert_id}.{department}.{expires}")) with ``expires`` in unix seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse


class AckLinks:
    """Makes and checks acknowledgement links."""

    def __init__(self, key: bytes | None, public_url: str | None, ttl_s: float) -> None:
        self.key = key or b""
        # No key, no links: ALERTS_LINK_SECRET is required with ALERTS_PUBLIC_URL (config.py).
        self.public_url = public_url.rstrip("/") if public_url and key else None
        self.ttl_s = ttl_s

    def signature(self, alert_id: str, department: str, expires: int) -> str:
        """The link's signature."""
        return hmac.new(self.key, f"{alert_id}.{department}.{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, alert_id: str, department: str, now_ts: float) -> str | None:
        """The link for a department to acknowledge an alert (None without a public URL)."""
        if not self.public_url:
            return None
        expires = int(now_ts + self.ttl_s)
        query = urllib.parse.urlencode({"department": department, "expires": expires,
                                        "signature": self.signature(alert_id, department, expires)})
        return f"{self.public_url}/v1/ack/{alert_id}?{query}"

    def check(self, alert_id: str, department: str, expires: int, signature: str, now_ts: float) -> str | None:
        """None when the link is good, else why it is not."""
        if not self.key:
            return "signature: acknowledgement links are not enabled"
        # Bytes: compare_digest raises TypeError on non-ASCII str, and the link comes from anyone.
        if not hmac.compare_digest(self.signature(alert_id, department, expires).encode(), signature.encode()):
            return "signature: does not match (the link was altered or is not ours)"
        if expires < now_ts:
            return "expires: the link has expired"
        return None
