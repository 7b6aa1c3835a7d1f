"""The evaluator's runtime: what its routes need, wired once by ``main.py`` and typed (no ad-hoc app.state)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from services.evaluator.adapters.database import EvaluatorDatabase
from services.evaluator.config import EvaluatorSettings
from services.evaluator.ports import AlertsSource
from services.evaluator.recording import EvaluationRecorder
from shared.catalogue import Catalogue, Catalogues
from shared.clock import Clock


@dataclass(frozen=True)
class EvaluatorRuntime:
    """Settings, catalogue, clock, the database and the recorder every entry point shares."""

    settings: EvaluatorSettings
    catalogue: Catalogue  # the default one (the city's 2024 catalogue)
    clock: Clock
    database: EvaluatorDatabase
    recorder: EvaluationRecorder
    wake_relay: Callable[[], None]  # publish at once what a request put in the outbox
    catalogues: Catalogues | None = None  # every catalogue, by (region, year); None: only ``catalogue``
    alerts: AlertsSource | None = None  # the alerts service's open alerts; None: EVALUATOR_ALERTS_URL unset

    @property
    def all_catalogues(self) -> Catalogues:
        """Every catalogue the evaluator monitors."""
        return self.catalogues or Catalogues.single(self.catalogue)


def runtime(request: Request) -> EvaluatorRuntime:
    """The runtime of the app serving ``request``."""
    rt = request.app.state.runtime
    assert isinstance(rt, EvaluatorRuntime)
    return rt
