"""One path for every evaluation, from a statistic or from a status report: store it, move the target's state,
and put a TargetStatusChanged event in the outbox when the status or the severity changed.

Runs inside the caller's unit of work (the consumer loop's batch, or a route's request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.evaluator.domain.evaluation import STATUS_ZH, Evaluation, Reading
from services.evaluator.domain.judging import Arrival, roles_of
from services.evaluator.domain.selection import TargetSeries
from services.evaluator.ports import CurrentState, EvaluationRow, EvaluatorStore
from shared.catalogue import Catalogue, Catalogues
from shared.catalogue.model import Target
from shared.ids import random_hex_id
from shared.messages import Severity, TargetStatusChanged
from shared.regions import CITY

Role = tuple[Catalogue, Target, TargetSeries, str]  # a catalogue, a target of it, its series, the figure's part
ROLES_REMEMBERED = 100_000  # (region, year, indicator, measure) keys; forgotten all at once past this


@dataclass(frozen=True)
class Basis:
    """What an evaluation was based on: the data vintage, or the department's report."""

    period: str
    period_zh: str
    reading: Reading | None = None
    related: Reading | None = None
    is_revision: bool = False
    revised_from: float | None = None
    report_id: str | None = None
    reported_by: str | None = None
    report_note: str | None = None
    rule_zh: str | None = None  # the rule the evaluation applied (判定标准：…)
    figure_zh: str | None = None  # the kind of figure it stands on (初步数, 预计数, 最终核实数, …)


@dataclass(frozen=True)
class Recorded:
    """What recording an evaluation did."""

    evaluation_id: str
    published: bool


class EvaluationRecorder:
    """Stores evaluations, moves each target's state, and publishes the changes of status or severity."""

    def __init__(self, catalogues: Catalogue | Catalogues) -> None:
        self.catalogues = catalogues if isinstance(catalogues, Catalogues) else Catalogues.single(catalogues)
        self.catalogue = self.catalogues.primary  # the default catalogue (status reports, the board)
        self._roles: dict[tuple[str, int, str, str], list[Role]] = {}

    def roles(self, region: str, arrival: Arrival) -> list[Role]:
        """The targets a figure moves in every catalogue judging it, with the part it plays in each.

        Remembered: a pure function of the catalogues (fixed for the recorder's life) and the figure's region,
        year, indicator and measure, asked for every message and, on PostgreSQL, again to lock a batch's targets.
        """
        key = (region, arrival.period.year, arrival.indicator, arrival.measure)
        found = self._roles.get(key)
        if found is None:
            if len(self._roles) >= ROLES_REMEMBERED:
                self._roles.clear()
            found = self._roles[key] = [(c, *role) for c in self.catalogues.judging(region, arrival.period.year)
                                        for role in roles_of(c, arrival)]
        return found

    def region_of(self, target: Target) -> str:
        """The region of the catalogue a target belongs to."""
        c = self.catalogues.of_target(target.id)
        return c.region if c is not None else CITY

    def record(
        self, store: EvaluatorStore, target: Target, ev: Evaluation, basis: Basis, message: str,
        state: CurrentState | None, now: datetime, *, restate: bool = False,
    ) -> Recorded:
        """Store the evaluation, update the target's state, publish if it changed.

        With ``restate`` the status is published even when unchanged (after a replay), marked as restated.
        """
        changed = state is None or (state.status, state.severity) != (ev.status, ev.severity)
        # A first evaluation that finds nothing wrong is not news; any other change is, recoveries included.
        publish = (changed or restate) and not (state is None and ev.severity == Severity.OK)
        evaluation_id = random_hex_id()
        r, rel = basis.reading, basis.related
        store.evaluations.add(EvaluationRow(
            id=evaluation_id, target_id=target.id, period=basis.period, status=ev.status.value,
            severity=ev.severity.value, actual=ev.actual, expected=ev.expected, gap_abs=ev.gap_abs,
            gap_pp=ev.gap_pp, progress=ev.progress, expected_progress=ev.expected_progress,
            projection=ev.projection, run_rate_needed=ev.run_rate_needed,
            observation_id=r.observation_id if r else None, observation_vintage=r.vintage if r else None,
            observation_status=r.status.value if r else None, is_revision=basis.is_revision,
            published=publish, message_zh=message, evaluated_at=now, related_actual=ev.related_actual,
            related_observation_id=rel.observation_id if rel else None, related_vintage=rel.vintage if rel else None,
            softened=ev.softened, report_id=basis.report_id,
        ))
        # The state always points at the latest evaluation, so the board shows the latest figures; updated_at
        # moves only with the status or severity: it says since when the target has stood where it stands.
        store.states.put(target.id, period=basis.period, evaluation_id=evaluation_id, status=ev.status,
                         severity=ev.severity, changed=changed, now=now, exists=state is not None)
        if publish:
            event = status_changed(evaluation_id, target, ev, basis, state, message, now,
                                   region=self.region_of(target))
            if restate and not changed:
                event = event.model_copy(update={"restated": True})
            store.outbox.add([event], now)
        return Recorded(evaluation_id, publish)



def status_changed(
    evaluation_id: str, target: Target, ev: Evaluation, basis: Basis, state: CurrentState | None, message: str,
    now: datetime, *, region: str = CITY,
) -> TargetStatusChanged:
    """The event announcing a target's new status, as the alerts service receives it."""
    r = basis.reading
    rel_ind = target.params.get("related_indicator")
    return TargetStatusChanged(
        evaluation_id=evaluation_id, target_id=target.id, target_name_zh=target.name_zh, section=target.section,
        kind=target.kind.value, indicator=target.indicator, region=region, period=basis.period,
        status=ev.status.value, severity=ev.severity, previous_status=state.status.value if state else None,
        previous_severity=state.severity if state else None, actual=ev.actual, expected=ev.expected,
        target_value=ev.goal if ev.goal is not None else target.value, unit=target.unit, gap_abs=ev.gap_abs,
        gap_rel=ev.gap_rel, gap_pp=ev.gap_pp, progress=ev.progress, expected_progress=ev.expected_progress,
        projection=ev.projection, run_rate_needed=ev.run_rate_needed,
        observation_status=r.status if r else None, is_revision=basis.is_revision,
        lead_department=target.lead_department, co_departments=target.co_departments, message_zh=message,
        observation_id=r.observation_id if r else None, observation_vintage=r.vintage if r else None,
        evaluated_at=now, status_zh=STATUS_ZH[ev.status], period_zh=basis.period_zh,
        months_left=ev.months_left, related_indicator=rel_ind if isinstance(rel_ind, str) else None,
        related_actual=ev.related_actual, revised_from=basis.revised_from, softened=ev.softened,
        report_id=basis.report_id, reported_by=basis.reported_by, report_note=basis.report_note,
        measure=target.measure.value if target.measure else None, strength=target.strength.value,
        figure_zh=basis.figure_zh, rule_zh=basis.rule_zh, growth_needed_pct=ev.growth_needed,
        year_end=ev.year_end, held=ev.held is not None,
    )
