"""Made-up deviations of real catalogue targets, published straight to ``<prefix>.deviations``.

For the alerts service's end-to-end tests and benchmark, which exercise alerts alone: the evaluator's
events are what it would publish, with plausible figures, built from the catalogue.
"""

from __future__ import annotations

from datetime import UTC, datetime

from kafka import KafkaProducer

from shared.catalogue import Catalogue
from shared.kafka import STRUCTURED_MODE_HEADERS
from shared.messages import Envelope, Severity, TargetStatusChanged, encode, envelope_for

SEVERITY_STATUS = {Severity.OK: "on_track", Severity.WARNING: "behind", Severity.CRITICAL: "far_behind"}


def deviation(catalogue: Catalogue, target_id: str, severity: Severity, *, period: str = "2024-Q2",
              actual: float = 40.0, expected: float = 50.0) -> TargetStatusChanged:
    """A status change of a catalogue target: its figures fall short of what was expected by now."""
    t = catalogue.targets[target_id]
    unit = t.unit or "亿元"
    word = {Severity.OK: "符合序时进度", Severity.WARNING: "滞后", Severity.CRITICAL: "严重滞后"}[severity]
    if unit == "%":  # a growth rate: the gap is in percentage points, there is no progress share
        gap_pp, gap_abs, gap_rel, progress, expected_progress, projection, run_rate = (
            actual - expected, None, None, None, None, actual, None)
    else:
        total = t.value or expected * 2
        gap_pp, gap_abs, gap_rel = None, actual - expected, (actual - expected) / expected
        progress, expected_progress = actual / total, expected / total
        projection, run_rate = actual * 2, (total - actual) / 6
    return TargetStatusChanged(
        evaluation_id=f"bench-{target_id}-{severity.value}", target_id=t.id, target_name_zh=t.name_zh,
        section=t.section, kind=t.kind.value, indicator=t.indicator, region="wuxi", period=period,
        status=SEVERITY_STATUS[severity], severity=severity, previous_status=None, previous_severity=None,
        actual=actual, expected=expected, target_value=t.value, unit=unit, gap_abs=gap_abs, gap_rel=gap_rel,
        gap_pp=gap_pp, progress=progress, expected_progress=expected_progress, projection=projection,
        run_rate_needed=run_rate, observation_status=None, lead_department=t.lead_department,
        co_departments=t.co_departments,
        message_zh=(f"{t.name_zh}{actual:g}%，目标{expected:g}%，{word}。" if unit == "%" else
                    f"{t.name_zh}完成{actual:g}{unit}，序时进度要求{expected:g}{unit}，{word}。"),
        observation_id=None, observation_vintage=None, evaluated_at=datetime.now(UTC),
    )


def publish(producer: KafkaProducer, topic_prefix: str, events: list[TargetStatusChanged]) -> list[Envelope]:
    """Publish events to ``<prefix>.deviations`` (keyed as the evaluator keys them) and flush."""
    envs = [envelope_for(e, source="/wuxi-targets/devstack", time=datetime.now(UTC)) for e in events]
    for env, e in zip(envs, events, strict=True):
        producer.send(f"{topic_prefix}.{e.topic}", key=e.key().encode(), value=encode(env),
                      headers=STRUCTURED_MODE_HEADERS)
    producer.flush(timeout=30)
    return envs
