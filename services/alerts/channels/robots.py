"""What the chat robots share: a JSON POST whose 200 answer carries the platform's error code.

The robots (企业微信, 钉钉, 飞书) have no idempotency key: a repeat is a second message in the group. So a
failure that leaves it open whether the platform accepted the message is reported as ambiguous (and, by
default, recorded as uncertain rather than sent again).
"""

from __future__ import annotations

from services.alerts.channels.base import DeliveryResult, network_failure
from services.alerts.channels.http import HttpPoster, Response, TransportError


class RobotPoster:
    """POSTs a robot's JSON; a transport failure becomes a DeliveryResult."""

    def __init__(self, client: HttpPoster) -> None:
        self.client = client

    def post(self, url: str, body: bytes, timeout_s: float) -> Response | DeliveryResult:
        """The platform's answer, or the failure when none came."""
        try:
            return self.client.post(url, content=body, timeout=timeout_s,
                                    headers={"Content-Type": "application/json; charset=utf-8"})
        except TransportError as exc:
            return network_failure(exc)
