"""The alert path as stages, in the order they run, like Alertmanager's notify pipeline:

route → inhibit → silence → group → render → store, then deliver (the dispatcher, after the commit).

Each stage takes the notices so far and returns what goes on; they run in the caller's transaction (the
consumer batch, or the lifecycle round), so the alert change and its queued notifications commit together.
A notice is one alert part on its way to one receiver (a department's channel).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from services.alerts.adapters.db import Repositories
from services.alerts.adapters.notifications import DueNotification, matchers_json
from services.alerts.channels.base import COMPLETE, Channel, Destination, Message
from services.alerts.domain.directory import ChannelType
from services.alerts.domain.inhibit import Inhibition, InhibitRule, Source, inhibited_by, labels_of, source_filter
from services.alerts.domain.model import DeliveryStatus, NotificationKind, Outgoing, Role, kind_of
from services.alerts.domain.silences import Silence, silenced_by
from services.alerts.domain.templates import AlertPart
from services.alerts.links import AckLinks
from services.alerts.receivers import Receivers
from shared.catalogue import Catalogue, Catalogues
from shared.messages import TargetStatusChanged


@dataclass(frozen=True)
class Notice:
    """One alert part on its way to one receiver."""

    outgoing: Outgoing
    dest: Destination | None = None  # set by the route stage
    inhibition: Inhibition | None = None  # set by the inhibit stage: stored as inhibited, never sent
    silence_id: str | None = None  # set by the silence stage
    grouped: bool = False  # set by the group stage: waits in notification_items
    part: AlertPart | None = None  # set by the render stage
    payload: str | None = None  # set by the render stage for notices sent alone

    @property
    def key(self) -> str:
        """The part's idempotency key: the same for a redelivered event, different per receiver."""
        o = self.outgoing
        ref = self.dest.ref if self.dest else ""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{o.cause}/{o.alert_id}/{o.kind.value}/{ref}").hex


@dataclass(frozen=True)
class Context:
    """What every stage of one run sees: the transaction's repositories and the time."""

    repos: Repositories
    now: datetime


class Stage(Protocol):
    """One step of the alert path."""

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """The notices that go on (fewer, more or changed)."""
        ...


class RouteStage:
    """To the receivers: one notice per configured channel of the department (none: nothing to send)."""

    def __init__(self, receivers: Receivers) -> None:
        self.receivers = receivers

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """One notice per destination."""
        return [replace(n, dest=d) for n in notices for d in self.receivers.for_department(n.outgoing.department)]


class InhibitStage:
    """Marks notices held back by an open alert through an inhibition rule (domain/inhibit.py): stored as
    inhibited with that alert's id, never sent.

    The open alerts are read in the caller's transaction; the consumer's handler runs the pipeline once at the end
    of its batch, after writing the batch's alerts, so an alert opened or resolved anywhere in that batch counts.
    Decided once, when the notification is queued: a source resolving later does not
    release it; the target's next notification (a reminder, an escalation, a change of status) is judged anew.
    """

    def __init__(self, rules: Sequence[InhibitRule], catalogue: Catalogue | Catalogues,
                 on_inhibited: Callable[[str], None] | None = None) -> None:
        self.rules = tuple(rules)
        self.catalogue = catalogue
        self.on_inhibited = on_inhibited  # counts per rule (alerts_notifications_inhibited_total)
        self._by_headline: dict[str, frozenset[str]] = {}

    def headline(self, target_id: str) -> str:
        """The headline target ``target_id`` is part of: itself when it is one, its ``feeds`` otherwise ("")."""
        t = self.catalogue.targets.get(target_id)
        if t is None:
            return ""
        return t.id if t.section == "headline" else (t.feeds or "")

    def targets_of_headline(self, headline: str) -> frozenset[str]:
        """The targets whose headline is ``headline`` (itself and the targets feeding it)."""
        cached = self._by_headline.get(headline)
        if cached is None:
            cached = self._by_headline[headline] = frozenset(
                t for t in self.catalogue.targets if self.headline(t) == headline)
        return cached

    def labels(self, n: Notice) -> dict[str, str]:
        """A notice's labels."""
        o = n.outgoing
        return labels_of(o.event, severity=o.severity, headline=self.headline(o.event.target_id),
                         notification=o.kind.value, department=o.department)

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """Notices with ``inhibition`` set where an open alert holds them back."""
        if not self.rules:
            return notices
        labelled = [(n, self.labels(n)) for n in notices]
        filters = [f for r in self.rules
                   if (f := source_filter(r, [lb for _, lb in labelled], self.targets_of_headline)) is not None]
        if not filters:
            return notices  # nothing any rule could hold back: no need to read the open alerts
        found = {a.id: a for f in filters for a in ctx.repos.alerts.open_with_events(f)}
        sources = [Source(a.id, labels_of(a.event, severity=a.severity, headline=self.headline(a.event.target_id),
                                          notification="firing", department=a.event.lead_department))
                   for a in found.values()]
        out = []
        for n, lb in labelled:
            why = inhibited_by(self.rules, n.outgoing.alert_id, lb, sources)
            if why is not None and self.on_inhibited:
                self.on_inhibited(why.rule)
            out.append(replace(n, inhibition=why) if why else n)
        return out


class SilenceStage:
    """Marks notices muted by a silence in force: stored as suppressed, never sent."""

    def __init__(self) -> None:
        self._cache: tuple[object, list[Silence]] | None = None

    def _active(self, ctx: Context) -> list[Silence]:
        # Read once per transaction (a consumer batch), not once per event: silences change rarely, and the
        # batch is short. A silence created later is checked again at send time (the dispatcher).
        tx = ctx.repos.silences.transaction()
        if self._cache is None or self._cache[0] is not tx:
            self._cache = (tx, ctx.repos.silences.active(ctx.now))
        return self._cache[1]

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """Notices with ``silence_id`` set where a silence mutes them."""
        if not notices:
            return notices
        muted = self._active(ctx)
        out = []
        for n in notices:
            if n.inhibition:
                out.append(n)  # held back already
                continue
            o = n.outgoing
            s = silenced_by(muted, ctx.now, target_id=o.event.target_id, department=o.department,
                            severity=o.severity)
            out.append(replace(n, silence_id=s.id) if s else n)
        return out


class GroupStage:
    """With group_wait > 0, notices not silenced wait to leave as one notification per receiver (grouping.py)."""

    def __init__(self, group_wait_s: float) -> None:
        self.group_wait_s = group_wait_s

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """Notices marked ``grouped`` when grouping is on."""
        if self.group_wait_s <= 0:
            return notices
        return [n if n.silence_id or n.inhibition else replace(n, grouped=True) for n in notices]


class Rendering:
    """Builds alert parts and notification rows; shared by the render stage and the group flusher."""

    def __init__(self, catalogue: Catalogue | Catalogues, links: AckLinks,
                 channels: Mapping[ChannelType, Channel]) -> None:
        self.catalogue = catalogue
        self.links = links
        self.channels = channels

    def department_zh(self, dept: str) -> str:
        """The department's Chinese name (its id when unknown)."""
        return self.catalogue.department_name(dept) if dept in self.catalogue.departments else dept

    def part(self, o: Outgoing, now: datetime) -> AlertPart:
        """What one alert contributes to a department's notification."""
        target = self.catalogue.targets.get(o.event.target_id)
        ack = None
        if o.kind != NotificationKind.RESOLVED and o.role in (Role.LEAD, Role.OVERDUE):
            # The lead department acknowledges; a superior chasing an overdue alert may too.
            ack = self.links.url(o.alert_id, o.department, now.timestamp())
        return AlertPart(o.alert_id, o.kind.value, o.event, self.department_zh(o.department), o.role.value,
                         getattr(target, "phrase", None), ack, self.department_zh(o.event.lead_department),
                         o.escalation_level)

    def row(self, dest: Destination, dept: str, parts: Sequence[AlertPart], event_ids: Sequence[str], key: str,
            now: datetime, *, status: DeliveryStatus = DeliveryStatus.PENDING,
            silence_id: str | None = None, payload: str | None = None,
            inhibition: Inhibition | None = None) -> dict[str, Any]:
        """A row of the ``notifications`` table."""
        if payload is None:
            payload = self.channels[dest.type].render(Message(list(parts), dept, self.department_zh(dept), key,
                                                              list(event_ids)))
        matchers = [(p.event.target_id, "ok" if p.kind == NotificationKind.RESOLVED else p.event.severity.value)
                    for p in parts]
        return {
            "idempotency_key": key, "alert_id": parts[0].alert_id, "kind": kind_of([p.kind for p in parts]).value,
            "department": dept, "channel": dest.type.value, "receiver": dest.ref, "payload": payload,
            "status": status.value, "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now,
            "sent_at": None, "alert_ids": ",".join(dict.fromkeys(p.alert_id for p in parts)),
            "silence_id": silence_id, "retry_since": now,
            "inhibited_by": inhibition.alert_id if inhibition else None,
            "inhibit_rule": inhibition.rule if inhibition else None, "matchers": matchers_json(matchers),
            "parts": json.dumps([part_doc(p, c) for p, c in zip(parts, event_ids, strict=True)], ensure_ascii=False),
        }


    def merged(self, rows: Sequence[DueNotification]) -> str | None:
        """Several waiting notifications to one receiver as one payload (a rate-limited robot's backlog), by the
        channel's grouped rendering; None when their parts do not all fit whole, or a row has no stored parts."""
        docs: list[dict[str, Any]] = []
        for r in rows:
            if not r.parts:
                return None
            docs += json.loads(r.parts)
        if not docs:
            return None
        parts, causes = zip(*(part_from_doc(d) for d in docs), strict=True)
        dept = rows[0].department
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"merged/{rows[0].receiver}/{','.join(r.idempotency_key for r in rows)}")
        payload = self.channels[ChannelType(rows[0].channel)].render(
            Message(list(parts), dept, self.department_zh(dept), key.hex, list(causes)))
        return None if json.loads(payload).get(COMPLETE) is False else payload


class RenderStage:
    """Renders each notice that leaves alone into its channel's payload (once: retries send the same bytes)."""

    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """Notices with their part and, unless grouped, their payload."""
        out = []
        for n in notices:
            part = self.rendering.part(n.outgoing, ctx.now)
            payload = None
            if not n.grouped and n.dest is not None:
                o = n.outgoing
                payload = self.rendering.channels[n.dest.type].render(Message(
                    [part], o.department, self.rendering.department_zh(o.department), n.key, [o.cause]))
            out.append(replace(n, part=part, payload=payload))
        return out


class StoreStage:
    """Writes notifications (sent alone, inhibited or suppressed) and waiting parts (grouped), in the caller's
    transaction."""

    def __init__(self, rendering: Rendering) -> None:
        self.rendering = rendering

    def run(self, ctx: Context, notices: list[Notice]) -> list[Notice]:
        """The notices, stored."""
        rows, items = [], []
        for n in notices:
            assert n.dest is not None and n.part is not None
            o = n.outgoing
            if n.grouped:
                items.append({"alert_id": o.alert_id, "kind": o.kind.value, "department": o.department,
                              "channel": n.dest.type.value, "receiver": n.dest.ref, "created_at": ctx.now,
                              "part_key": n.key, "content": json.dumps(part_doc(n.part, o.cause), ensure_ascii=False)})
            else:
                status = (DeliveryStatus.INHIBITED if n.inhibition else
                          DeliveryStatus.SUPPRESSED if n.silence_id else DeliveryStatus.PENDING)
                rows.append(self.rendering.row(
                    n.dest, o.department, [n.part], [o.cause], n.key, ctx.now, payload=n.payload,
                    status=status, silence_id=n.silence_id, inhibition=n.inhibition))
        ctx.repos.notifications.add(rows)
        ctx.repos.groups.add(items)
        return notices


class Pipeline:
    """Runs the stages in order over the outgoing alert parts."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = stages

    def run(self, repos: Repositories, outgoing: list[Outgoing], now: datetime) -> int:
        """Queue notifications for ``outgoing``; returns how many notices were stored."""
        ctx = Context(repos, now)
        notices = [Notice(o) for o in outgoing]
        for stage in self.stages:
            if not notices:
                return 0
            notices = stage.run(ctx, notices)
        return len(notices)


def build_pipeline(receivers: Receivers, rendering: Rendering, *, group_wait_s: float,
                   inhibit_rules: Sequence[InhibitRule] = (),
                   on_inhibited: Callable[[str], None] | None = None) -> Pipeline:
    """The stages in the order they run."""
    return Pipeline([RouteStage(receivers), InhibitStage(inhibit_rules, rendering.catalogue, on_inhibited),
                     SilenceStage(), GroupStage(group_wait_s), RenderStage(rendering), StoreStage(rendering)])


def part_doc(p: AlertPart, cause: str) -> dict[str, object]:
    """A waiting part as stored JSON."""
    return {"alert_id": p.alert_id, "kind": p.kind, "event": p.event.model_dump(mode="json"),
            "department_zh": p.department_zh, "role": p.role, "phrase": p.phrase, "ack_url": p.ack_url,
            "lead_department_zh": p.lead_department_zh, "escalation_level": p.escalation_level, "cause": cause}


def part_from_doc(d: dict[str, Any]) -> tuple[AlertPart, str]:
    """A stored waiting part and its cause (event id)."""
    return AlertPart(
        alert_id=str(d["alert_id"]), kind=str(d["kind"]), event=TargetStatusChanged.model_validate(d["event"]),
        department_zh=str(d["department_zh"]), role=str(d["role"]),
        phrase=d["phrase"] if isinstance(d["phrase"], str) else None,
        ack_url=d["ack_url"] if isinstance(d["ack_url"], str) else None,
        lead_department_zh=str(d["lead_department_zh"]), escalation_level=int(d["escalation_level"]),
    ), str(d.get("cause") or d["alert_id"])
