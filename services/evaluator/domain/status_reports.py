"""Milestones and qualitative targets: their status is what the responsible department reports, never a guess."""

from __future__ import annotations

from enum import StrEnum

from shared.catalogue.model import Strength

from .model import Evaluation, Status, severity_of


class ReportedStatus(StrEnum):
    """What a department may report about a milestone or qualitative target."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    AT_RISK = "at_risk"
    MISSED = "missed"


REPORTED_ZH = {
    ReportedStatus.NOT_STARTED: "尚未启动",
    ReportedStatus.IN_PROGRESS: "正在推进",
    ReportedStatus.DONE: "已完成",
    ReportedStatus.AT_RISK: "存在完成风险",
    ReportedStatus.MISSED: "无法完成",
}

_STATUS_OF = {
    ReportedStatus.NOT_STARTED: Status.NOT_STARTED,
    ReportedStatus.IN_PROGRESS: Status.IN_PROGRESS,
    ReportedStatus.DONE: Status.ACHIEVED,
    ReportedStatus.AT_RISK: Status.AT_RISK,
    ReportedStatus.MISSED: Status.MISSED,
}


def evaluate_report(reported: ReportedStatus, strength: Strength = Strength.BINDING) -> Evaluation:
    """The target's status from its department's report: done → achieved, at risk → warning, missed → critical
    for a binding target and a warning for an expected one (a report gives no measure of how far off it is)."""
    status = _STATUS_OF[reported]
    return Evaluation(status, severity_of(status, strength), actual=None)
