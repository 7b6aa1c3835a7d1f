"""Where each department's notifications go: the directory's channels, with addresses and secrets from the environment.

A notification stores its receiver as ``department:channel``; the address is looked up when sending, so a
rotated robot URL or secret applies to the backlog too, and no secret is written to the database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from services.alerts.channels.base import Destination
from services.alerts.domain.directory import ChannelType, Directory

log = logging.getLogger(__name__)


class Receivers:
    """Resolved destinations per department."""

    def __init__(self, directory: Directory, channels: tuple[ChannelType, ...], env: Mapping[str, str], *,
                 webhook_urls: Mapping[str, str] | None = None, default_webhook_url: str | None = None,
                 departments: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.channels = channels
        self.env = env
        self._by_dept: dict[str, list[Destination]] = {}
        for dept in set(departments or {}) | set(directory.entries):
            dests = []
            for spec in directory.channels(dept):
                if spec.type not in channels:
                    continue
                address = env.get(spec.address_env, "").strip()
                if not address:
                    continue
                secret = env.get(spec.secret_env, "").strip() or None if spec.secret_env else None
                dests.append(Destination(f"{dept}:{spec.type.value}", spec.type, address, secret))
            # ALERTS_WEBHOOK_URLS and ALERTS_DEFAULT_WEBHOOK_URL: a plain webhook without a directory entry.
            legacy = (webhook_urls or {}).get(dept) or default_webhook_url
            if legacy and ChannelType.WEBHOOK in channels and not any(d.type == ChannelType.WEBHOOK for d in dests):
                dests.insert(0, Destination(f"{dept}:webhook", ChannelType.WEBHOOK, legacy))
            if dests:
                self._by_dept[dept] = dests
        self._by_ref = {d.ref: d for ds in self._by_dept.values() for d in ds}
        log.info("receivers configured: %s", ", ".join(sorted(self._by_ref)) or "none")

    def for_department(self, department: str) -> list[Destination]:
        """The department's configured destinations (empty when none is configured)."""
        return self._by_dept.get(department, [])

    def resolve(self, ref: str) -> Destination | None:
        """The destination of a stored receiver reference, if it is still configured."""
        return self._by_ref.get(ref)

    def describe(self, department: str) -> list[dict[str, object]]:
        """The department's channels for the directory API: type, variable names, configured or not."""
        configured = {d.type for d in self.for_department(department)}
        out: list[dict[str, object]] = [
            {"type": s.type.value, "address_env": s.address_env, "secret_env": s.secret_env,
             "enabled": s.type in self.channels, "configured": s.type in configured}
            for s in self.directory.channels(department)
        ]
        if ChannelType.WEBHOOK in configured and not any(s.type == ChannelType.WEBHOOK
                                                         for s in self.directory.channels(department)):
            out.append({"type": "webhook", "address_env": "ALERTS_WEBHOOK_URLS", "secret_env": None,
                        "enabled": True, "configured": True})
        return out
