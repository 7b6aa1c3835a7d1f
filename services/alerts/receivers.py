"""Where each department's notifications go: the directory's channels, with addresses and secrets from the environment.

A notification stores its receiver as ``department:channel``; the address is looked up when sending, so a
rotated robot URL or secret applies to the backlog too, and no secret is written to the database.

Every webhook receiver signs with its own key: a department holding its key can verify its webhooks and
nothing else. Start-up fails when a webhook has no key, or when two webhooks with different addresses
(two parties) would share one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from services.alerts.channels.base import Destination
from services.alerts.channels.webhook import signing_keys
from services.alerts.domain.directory import ChannelType, Directory
from shared.errors import ConfigurationError

log = logging.getLogger(__name__)


class ReceiverConfigError(ConfigurationError):
    """A receiver that cannot be used safely; the message names the department and the variable."""


class Receivers:
    """Resolved destinations per department."""

    def __init__(self, directory: Directory, channels: tuple[ChannelType, ...], env: Mapping[str, str], *,
                 webhook_urls: Mapping[str, str] | None = None, default_webhook_url: str | None = None,
                 webhook_secrets: Mapping[str, str] | None = None, default_webhook_secret: str | None = None,
                 departments: Mapping[str, str] | None = None) -> None:
        self.directory = directory
        self.channels = channels
        self.env = env
        self._by_dept: dict[str, list[Destination]] = {}
        owners: dict[bytes, tuple[str, str]] = {}  # key -> (address, who configured it), to refuse shared keys
        for dept in sorted(set(departments or {}) | set(directory.entries)):
            dests = []
            for spec in directory.channels(dept):
                if spec.type not in channels:
                    continue
                address = env.get(spec.address_env, "").strip()
                if not address:
                    continue
                secret = (env.get(spec.secret_env, "").strip() or None) if spec.secret_env else None
                if spec.type == ChannelType.WEBHOOK:
                    where = spec.secret_env or f"{spec.address_env} (no secret_env)"
                    dests.append(self._webhook(dept, address, secret, where, owners))
                else:
                    dests.append(self._robot(dept, spec.type, address, secret))
            # ALERTS_WEBHOOK_URLS and ALERTS_DEFAULT_WEBHOOK_URL: a plain webhook without a directory variable,
            # keyed by ALERTS_WEBHOOK_SECRETS[dept], else ALERTS_WEBHOOK_SECRET.
            own_url = (webhook_urls or {}).get(dept)
            legacy = own_url or default_webhook_url
            if legacy and ChannelType.WEBHOOK in channels and not any(d.type == ChannelType.WEBHOOK for d in dests):
                own_secret = (webhook_secrets or {}).get(dept)
                secret = own_secret or default_webhook_secret
                where = f"ALERTS_WEBHOOK_SECRETS[{dept!r}]" if own_secret else "ALERTS_WEBHOOK_SECRET"
                dests.insert(0, self._webhook(dept, legacy, secret, where, owners))
            if dests:
                self._by_dept[dept] = dests
        self._by_ref = {d.ref: d for ds in self._by_dept.values() for d in ds}
        log.info("receivers configured: %s", ", ".join(sorted(self._by_ref)) or "none")

    def _robot(self, dept: str, channel: ChannelType, address: str, secret: str | None) -> Destination:
        """A chat robot, with the department's contacts to @-mention: their phones and user ids on its platform."""
        contacts = self.directory.contacts(dept)

        def values(names: list[str | None]) -> tuple[str, ...]:
            got = (self.env.get(v, "").strip() for v in names if v)
            return tuple(dict.fromkeys(x for x in got if x))

        mobiles = values([c.phone_env for c in contacts]) if channel == ChannelType.DINGTALK else ()
        return Destination(f"{dept}:{channel.value}", channel, address, secret, mobiles=mobiles,
                           user_ids=values([c.user_id_env(channel) for c in contacts]))

    @staticmethod
    def _webhook(dept: str, address: str, secret: str | None, where: str,
                 owners: dict[bytes, tuple[str, str]]) -> Destination:
        if not secret:
            raise ReceiverConfigError(f"department {dept!r}: webhook {address!r} has no signing secret: set {where}")
        try:
            keys = signing_keys(secret)
        except ValueError as exc:
            raise ReceiverConfigError(f"department {dept!r}: {where}: {exc}") from None
        if not 1 <= len(keys) <= 2:
            raise ReceiverConfigError(f"department {dept!r}: {where}: give one key, or two while rotating")
        for k in keys:
            other = owners.setdefault(k, (address, where))
            if other[0] != address:
                raise ReceiverConfigError(f"department {dept!r}: {where} signs {address!r} with the key that "
                                          f"{other[1]} gives {other[0]!r}: each receiver needs its own secret")
        return Destination(f"{dept}:webhook", ChannelType.WEBHOOK, address, signing_keys=keys)

    def for_department(self, department: str) -> list[Destination]:
        """The department's configured destinations (empty when none is configured)."""
        return self._by_dept.get(department, [])

    def resolve(self, ref: str) -> Destination | None:
        """The destination of a stored receiver reference, if it is still configured."""
        return self._by_ref.get(ref)

    def signing_keys(self) -> set[bytes]:
        """Every webhook key in use (the link key must be none of them)."""
        return {k for d in self._by_ref.values() for k in d.signing_keys}

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
