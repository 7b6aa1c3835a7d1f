"""How officials read a target's progress: one pure function per kind of target, chosen by ``evaluate``.

- growth rates (增长X%左右 / X%以上): the latest year-to-date growth against X with a band (domain/rates.py);
- shares read directly, caps (控制在…, read with the province's band) and the relational target (基本同步:
  real against real) likewise (domain/rates.py);
- counts, totals and levels: progress against 序时进度 along the target's schedule (domain/progress.py);
- at the year's end (a figure reaching December, whatever its status) a verdict: 已完成 or 未完成;
- the target's strength shapes the severity of missing it; only an estimate (预计数) softens a critical one.

docs/reading-rules.md states every rule with the official phrase it implements and every default.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.catalogue.model import Kind, Target
from shared.messages import ObservationStatus

from .model import (
    DEFAULT_BAND_PP,
    DEFAULT_FAR_BEHIND_PP,
    DEFAULT_PROGRESS_HYSTERESIS_PP,
    DEFAULT_PROGRESS_TOLERANCE_PP,
    DEFAULT_RATE_HYSTERESIS_PP,
    DEFAULT_WARN_MARGIN_PP,
    SEVERITY_OF,
    STATUS_ZH,
    Evaluation,
    Hold,
    Reading,
    Status,
    band_of,
    goal_of,
    severity_of,
    soften,
)
from .progress import evaluate_progress, expected_share
from .rates import evaluate_cap, evaluate_growth, evaluate_relational, evaluate_share


def evaluate(
    target: Target, reading: Reading, *, related: Reading | None = None, deflator: Reading | None = None,
    previous_year: Sequence[Reading] = (), previous: Status | None = None,
) -> Evaluation:
    """Evaluate a quantitative target from the reading it stands on (and the related ones of a relational one).

    ``previous_year``: last year's figures of the target's indicator (cumulative levels, for a path or for
    weighting the growth still needed; year-end levels, for a stock's start). ``previous``: the target's
    current status, for hysteresis.
    """
    if target.kind == Kind.GROWTH_RATE:
        ev = evaluate_growth(target, reading, previous, previous_year)
    elif target.kind in (Kind.CUMULATIVE_TOTAL, Kind.COUNT, Kind.LEVEL):
        ev = evaluate_progress(target, reading, previous, previous_year)
    elif target.kind == Kind.SHARE:
        ev = evaluate_share(target, reading, previous)
    elif target.kind == Kind.CAP:
        ev = evaluate_cap(target, reading, previous)
    elif target.kind == Kind.RELATIONAL:
        if related is None:
            raise ValueError(f"target {target.id}: a relational evaluation needs the related reading")
        ev = evaluate_relational(target, reading, related, deflator, previous)
    else:
        raise ValueError(f"target {target.id}: {target.kind} targets are evaluated from status reports")
    # 初步数 / 快报 are the figures the government reports and acts on: only an estimate (预计数) softens.
    estimated = any(r is not None and r.status == ObservationStatus.ESTIMATED for r in (reading, related, deflator))
    return soften(ev) if estimated else ev


__all__ = [
    "DEFAULT_BAND_PP", "DEFAULT_FAR_BEHIND_PP", "DEFAULT_PROGRESS_HYSTERESIS_PP", "DEFAULT_PROGRESS_TOLERANCE_PP",
    "DEFAULT_RATE_HYSTERESIS_PP", "DEFAULT_WARN_MARGIN_PP", "SEVERITY_OF", "STATUS_ZH", "Evaluation", "Hold",
    "Reading", "Status", "band_of", "evaluate", "expected_share", "goal_of", "severity_of", "soften",
]
