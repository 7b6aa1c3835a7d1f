"""The alerts service's wired parts as one typed object, for the routes (instead of untyped app.state attributes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from services.alerts.adapters.db import Database
from services.alerts.config import ApiToken
from services.alerts.domain.directory import Directory, Routing
from services.alerts.links import AckLinks
from services.alerts.receivers import Receivers
from shared.catalogue import Catalogue, Catalogues
from shared.clock import Clock


@dataclass(frozen=True)
class AlertsRuntime:
    """What the HTTP routes use."""

    db: Database
    catalogue: Catalogue | Catalogues
    directory: Directory
    routing: Routing
    receivers: Receivers
    links: AckLinks
    clock: Clock
    api_tokens: dict[str, ApiToken]
    wake_dispatcher: Callable[[], None]


def runtime(request: Request) -> AlertsRuntime:
    """The runtime of the app serving ``request``."""
    rt: AlertsRuntime = request.app.state.runtime
    return rt
