"""Inhibition, as Alertmanager has it: an open alert holds back notifications about other alerts. Pure.

A rule has source matchers, target matchers and ``equal`` labels. A notification whose labels match the target
matchers is inhibited while an open (firing or acknowledged) alert matches the source matchers and has the same
value as the notification for every label in ``equal``. An alert never inhibits itself, and, as in
Alertmanager, when a notification matches both sides of a rule, only sources that do not also match the target
side inhibit it (two such alerts never hold each other back).

Matchers are ``label = [values]`` (the value must be one of them), like the routing rules' ``match``; a label an
alert lacks has the value "" (so ``equal`` on it holds between two alerts that both lack it). No regular
expressions: the label values are small closed sets or ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.alerts.domain.model import NotificationKind
from shared.catalogue.model import SECTIONS, Kind
from shared.errors import ConfigurationError
from shared.messages import TargetStatusChanged
from shared.regions import REGIONS

# The labels of an alert (and of a notification about it), with what they hold.
LABELS: dict[str, str] = {
    "target": "the target's id (a district's: <region>.<year>.<id>)",
    "indicator": "the target's indicator id (\"\" for milestones and qualitative targets)",
    "kind": "the target's kind (growth_rate, cumulative_total, count, share, level, cap, relational, milestone, …)",
    "severity": "warning or critical (a recovery's notification: ok)",
    "status": "the evaluator's status (behind, far_behind, breached, …)",
    "notification": "what is told: firing, escalated, reminder, overdue, resolved (an open alert as a source: "
                    "firing)",
    "department": "the department told (an open alert as a source: its lead department)",
    "lead_department": "the target's lead department",
    "region": "the target's region (wuxi, jiangyin, …)",
    "year": "the year of the period judged (2024)",
    "section": "the catalogue section (headline, 1 … 9)",
    "headline": "the headline target it is part of: its own id for a headline target, the catalogue's feeds for a "
                "target that feeds one, \"\" otherwise",
}

# Labels whose values are a closed set, checked at load.
_CLOSED: dict[str, frozenset[str]] = {
    "severity": frozenset({"warning", "critical", "ok"}),
    "notification": frozenset(k.value for k in NotificationKind if k != NotificationKind.GROUPED),
    "kind": frozenset(k.value for k in Kind),
    "section": frozenset(SECTIONS),
    "region": frozenset(REGIONS),
}
_FIELDS = ("name", "source_match", "target_match", "equal")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class InhibitRuleError(ConfigurationError):
    """An inhibition rule that cannot be used; the message (Chinese, then English) names the rule and the field."""


Matchers = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class InhibitRule:
    """One inhibition rule of the routing file."""

    name: str
    source: Matchers
    target: Matchers
    equal: tuple[str, ...] = ()

    def as_doc(self) -> dict[str, object]:
        """The rule as the routing file writes it (for GET /v1/routing)."""
        return {"name": self.name, "source_match": {k: sorted(v) for k, v in self.source.items()},
                "target_match": {k: sorted(v) for k, v in self.target.items()}, "equal": list(self.equal)}


@dataclass(frozen=True)
class Source:
    """An open alert that may inhibit others, with its labels."""

    alert_id: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Inhibition:
    """Why a notification is held back: the rule and the open alert."""

    rule: str
    alert_id: str


def labels_of(event: TargetStatusChanged, *, severity: str, headline: str, notification: str,
              department: str) -> dict[str, str]:
    """The labels of an alert about ``event``, as told to ``department`` (``headline`` from the catalogue)."""
    return {"target": event.target_id, "indicator": event.indicator or "", "kind": event.kind, "severity": severity,
            "status": event.status, "notification": notification, "department": department,
            "lead_department": event.lead_department, "region": event.region, "year": event.period[:4],
            "section": event.section, "headline": headline}


def matches(matchers: Matchers, labels: Mapping[str, str]) -> bool:
    """Whether every matcher holds (a missing label is "")."""
    return all(labels.get(k, "") in values for k, values in matchers.items())


def inhibited_by(rules: Sequence[InhibitRule], alert_id: str, labels: Mapping[str, str],
                 sources: Iterable[Source]) -> Inhibition | None:
    """The first rule and open alert that hold back a notification about ``alert_id`` with ``labels``, if any."""
    sources = list(sources)
    for rule in rules:
        if not matches(rule.target, labels):
            continue
        both_sides = matches(rule.source, labels)
        for s in sources:
            if s.alert_id == alert_id or not matches(rule.source, s.labels):
                continue
            if both_sides and matches(rule.target, s.labels):
                continue  # Alertmanager: alerts matching both sides do not inhibit each other
            if all(s.labels.get(k, "") == labels.get(k, "") for k in rule.equal):
                return Inhibition(rule.name, s.alert_id)
    return None


@dataclass(frozen=True)
class SourceFilter:
    """What an open alert must be to possibly inhibit, under one rule, any of the notifications at hand: a
    necessary condition only, for reading fewer open alerts (``inhibited_by`` still decides). ``None``: any."""

    severities: frozenset[str] | None = None
    sections: frozenset[str] | None = None
    target_ids: frozenset[str] | None = None


def source_filter(rule: InhibitRule, notices: Sequence[Mapping[str, str]],
                  targets_of_headline: Callable[[str], frozenset[str]]) -> SourceFilter | None:
    """The open alerts that can hold back one of ``notices`` (their labels) under ``rule``; None when the rule holds
    back none of them.

    Narrowed by the source matchers on labels the alerts table stores (severity, section, target) and by ``equal``
    on target or headline (a source must then be one of the notices' targets, or of the targets sharing their
    headline: ``targets_of_headline``). Other labels (region, year, …) are left to ``inhibited_by``.
    """
    held = [lb for lb in notices if matches(rule.target, lb)]
    if not held:
        return None
    targets: frozenset[str] | None = rule.source.get("target")
    if "target" in rule.equal:
        same = frozenset(lb.get("target", "") for lb in held)
        targets = same if targets is None else targets & same
    if "headline" in rule.equal:
        headlines = {lb.get("headline", "") for lb in held}
        if "" not in headlines:  # alerts without a headline are many: no narrowing by it then
            feeding = frozenset().union(*(targets_of_headline(h) for h in headlines))
            targets = feeding if targets is None else targets & feeding
    return SourceFilter(rule.source.get("severity"), rule.source.get("section"), targets)


def _fail(name: str, field: str, zh: str, en: str) -> InhibitRuleError:
    return InhibitRuleError(f"抑制规则 {name!r}：字段 {field!r}：{zh} (inhibit rule {name!r}: field {field!r}: {en})")


def _matchers(name: str, field: str, raw: object, known_departments: Iterable[str]) -> Matchers:
    if not isinstance(raw, Mapping):
        raise _fail(name, field, "缺少或不是表（至少一个标签 = [取值]）",
                    "missing or not a table (at least one label = [values])")
    if not raw:
        raise _fail(name, field, "不能为空（至少一个标签 = [取值]）",
                    "must not be empty (at least one label = [values])")
    departments = frozenset(known_departments)
    out: dict[str, frozenset[str]] = {}
    for label, values in raw.items():
        where = f"{field}.{label}"
        if label not in LABELS:
            raise _fail(name, where, f"未知标签，可用：{', '.join(LABELS)}",
                        f"unknown label; one of {', '.join(LABELS)}")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise _fail(name, where, "应为非空的字符串列表", "must be a non-empty list of strings")
        known = _CLOSED.get(label) or (departments if label in ("department", "lead_department") else None)
        for v in values:
            if known is not None and v not in known:
                raise _fail(name, where, f"未知取值 {v!r}", f"unknown value {v!r}")
        out[label] = frozenset(values)
    return out


def parse_rules(raw: object, known_departments: Iterable[str]) -> tuple[InhibitRule, ...]:
    """Validate the routing file's ``[[inhibit_rule]]`` entries."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InhibitRuleError("抑制规则：字段 'inhibit_rule' 应为 [[inhibit_rule]] 表的列表 "
                               "(field 'inhibit_rule': must be a list of [[inhibit_rule]] tables)")
    departments = list(known_departments)
    rules: list[InhibitRule] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise _fail(f"#{i + 1}", "(entry)", "应为表", "must be a table")
        name = entry.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise _fail(name if isinstance(name, str) else f"#{i + 1}", "name",
                        "必填，小写字母、数字、-、_", "required: lower-case letters, digits, - and _")
        if any(r.name == name for r in rules):
            raise _fail(name, "name", "重复定义", "defined twice")
        for field in entry:
            if field not in _FIELDS:
                raise _fail(name, field, f"未知字段，可用：{', '.join(_FIELDS)}",
                            f"unknown field; one of {', '.join(_FIELDS)}")
        source = _matchers(name, "source_match", entry.get("source_match"), departments)
        target = _matchers(name, "target_match", entry.get("target_match"), departments)
        equal = entry.get("equal", [])
        if not isinstance(equal, list) or not all(isinstance(e, str) for e in equal):
            raise _fail(name, "equal", "应为标签名列表", "must be a list of label names")
        for e in equal:
            if e not in LABELS:
                raise _fail(name, "equal", f"未知标签 {e!r}，可用：{', '.join(LABELS)}",
                            f"unknown label {e!r}; one of {', '.join(LABELS)}")
        rules.append(InhibitRule(name, source, target, tuple(equal)))
    return tuple(rules)
