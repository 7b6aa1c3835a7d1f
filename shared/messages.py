"""Every message that crosses Kafka, defined once: CloudEvents 1.0 envelopes in JSON with versioned data.

Messages are facts, named in the past tense. The event ``type`` carries the schema version
(``….v1``); a breaking change to a data model gets a new type and both are consumed while
producers migrate. The Kafka key is the indicator id, so one indicator's events stay in order.

Writers are strict, readers tolerant: building an event with a field its model does not have is a bug
(``extra="forbid"``), but reading one ignores the fields this version does not know, so that a newer
producer (a rolling upgrade) never dead-letters an older consumer's input. Every field added to a version
is optional with a default (``tests/unit/test_messages.py`` keeps the required fields of each version).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from shared.catalogue.model import Measure
from shared.ids import random_uuid

SPECVERSION: Literal["1.0"] = "1.0"


class ObservationStatus(StrEnum):
    """SDMX OBS_STATUS, reduced to what bureaus use here."""

    PROVISIONAL = "provisional"  # 初步数
    ESTIMATED = "estimated"  # 预计数
    FINAL = "final"  # 最终核实数


class Severity(StrEnum):
    """How bad a target's status is; alerts fire for warning and critical."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


class EventData(BaseModel):
    """Base of every event payload: strict to build, immutable, and tied to one CloudEvents type and topic."""

    # forbid: a producer's misspelt field fails where it is written. Readers go through Envelope.read, which
    # drops unknown fields before validating.
    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]
    topic: ClassVar[str]  # topic name without the configured prefix

    def key(self) -> str:
        """The Kafka key: events with the same key stay in order."""
        raise NotImplementedError


class ObservationRecorded(EventData):
    """Ingest accepted a statistic (a new figure, a revision, or a replay of a stored one)."""

    event_type: ClassVar[str] = "cn.gov.wuxi.targets.observation.recorded.v1"
    topic: ClassVar[str] = "observations"

    observation_id: str
    indicator: str
    region: str
    period: str  # SDMX-style: 2024, 2024-S1, 2024-Q1, 2024-M03 (2024-M02 = the combined 1—2月 release)
    measure: Measure
    value: float
    unit: str  # the indicator's canonical unit; ingest converts before publishing
    status: ObservationStatus
    vintage: int = Field(ge=1)  # 1 for the first figure, +1 for each revision
    previous_value: float | None = None  # the value this vintage revises
    revision_reason: str | None = None
    submitted_by: str
    recorded_at: datetime
    replayed: bool = False  # true when an operator republished it to rebuild downstream state

    def key(self) -> str:
        return self.indicator


class TargetStatusChanged(EventData):
    """The evaluator found that a target's status or severity changed: a deviation, or its recovery."""

    event_type: ClassVar[str] = "cn.gov.wuxi.targets.target.status-changed.v1"
    topic: ClassVar[str] = "deviations"

    evaluation_id: str
    target_id: str
    target_name_zh: str
    section: str
    kind: str
    indicator: str | None
    region: str
    period: str
    status: str  # ahead, on_track, behind, far_behind, breached, near_cap, achieved, missed, …
    severity: Severity
    previous_status: str | None
    previous_severity: Severity | None
    actual: float | None
    expected: float | None  # what was expected by the end of the period
    target_value: float | None
    unit: str | None
    gap_abs: float | None  # actual - expected, in ``unit``
    gap_rel: float | None  # gap_abs / expected
    gap_pp: float | None  # percentage points, for % targets and progress shares
    progress: float | None  # share of the annual target done (0..1+), for totals and counts
    expected_progress: float | None  # share of the year gone (or the seasonal path) at the period end
    projection: float | None  # projected year-end value
    run_rate_needed: float | None  # per remaining month, to reach the annual target
    observation_status: ObservationStatus | None
    is_revision: bool = False
    lead_department: str
    co_departments: tuple[str, ...] = ()
    message_zh: str
    observation_id: str | None
    observation_vintage: int | None
    evaluated_at: datetime
    # Added later; optional so that events written before them still validate.
    status_zh: str | None = None  # the status in Chinese (滞后, 严重滞后, 已完成, …)
    period_zh: str | None = None  # the period as releases name it (2024年1—2月, 2024年一季度)
    months_left: int | None = None  # months of the year after the period, for the run-rate
    related_indicator: str | None = None  # relational targets: the indicator compared with
    related_actual: float | None = None
    revised_from: float | None = None  # the value the revision replaced
    softened: bool = False  # severity lowered because the data is provisional or estimated
    report_id: str | None = None  # milestones and qualitative targets: the department's status report
    reported_by: str | None = None  # department id that reported
    report_note: str | None = None
    # True when the evaluator re-asserts a status it already published, after ingest replayed observations
    # (the broker may have lost the original event). Consumers apply it as state: news only if it is news.
    restated: bool = False
    # Added with the reading rules (docs/reading-rules.md); optional so that earlier events still validate.
    measure: str | None = None  # the target's measure (cumulative_yoy_pct, cumulative_level, level, yoy_pct)
    strength: str | None = None  # binding (约束性, 确保) or expected (预期性, 力争, 左右)
    figure_zh: str | None = None  # the kind of figure the evaluation stands on (初步数, 初步核算数, 预计数, 核实数)
    rule_zh: str | None = None  # the rule applied, with its thresholds (判定标准：…), as in message_zh
    growth_needed_pct: float | None = None  # growth targets behind their band: growth the rest of the year needs
    year_end: bool = False  # a year-end verdict (已完成 / 未完成), revisable while the figure is not final
    held: bool = False  # the status is held by hysteresis (message_zh says what releases it)

    def key(self) -> str:
        return self.indicator or self.target_id


class NotificationDeadLettered(EventData):
    """The alerts service gave up delivering a notification after its last attempt (it can be re-sent by API)."""

    event_type: ClassVar[str] = "cn.gov.wuxi.targets.notification.dead-lettered.v1"
    topic: ClassVar[str] = "notifications.dlq"

    notification_id: int
    idempotency_key: str
    alert_ids: tuple[str, ...]
    kind: str
    department: str
    channel: str
    attempts: int
    last_error: str | None
    created_at: datetime
    dead_at: datetime

    def key(self) -> str:
        return self.department


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.event_type: cls for cls in (ObservationRecorded, TargetStatusChanged, NotificationDeadLettered)
}


class Envelope(BaseModel):
    """A CloudEvents 1.0 structured-mode JSON event."""

    model_config = ConfigDict(extra="allow", frozen=True)

    specversion: Literal["1.0"] = SPECVERSION
    # At most what processed_events.event_id holds: a longer id could never be recorded as processed.
    id: str = Field(min_length=1, max_length=64)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1, max_length=200)
    subject: str | None = None
    time: datetime | None = None
    # Any JSON media type the JSON event format allows for a JSON ``data`` value, parameters included.
    datacontenttype: str | None = "application/json"
    data: dict[str, Any]

    @field_validator("datacontenttype")
    @classmethod
    def _json_data(cls, value: str | None) -> str | None:
        if value is not None and not is_json_media_type(value):
            raise ValueError(f"datacontenttype {value!r}: the data of these events is JSON (application/json, "
                             "text/json or a +json type)")
        return value

    def payload(self) -> EventData:
        """The typed data of this event; raises ``InvalidMessage`` for an unknown type or bad data."""
        return self.read()[0]

    def read(self) -> tuple[EventData, frozenset[str]]:
        """The typed data and the names of the fields this version does not know (a newer producer's)."""
        cls = EVENT_TYPES.get(self.type)
        if cls is None:
            raise InvalidMessage(f"unknown event type {self.type!r}")
        unknown = frozenset(self.data.keys() - cls.model_fields.keys())
        data = {k: v for k, v in self.data.items() if k not in unknown} if unknown else self.data
        try:
            return cls.model_validate(data), unknown
        except ValidationError as exc:
            raise InvalidMessage(f"{self.type}: {exc}") from exc


def is_json_media_type(value: str) -> bool:
    """Whether a media type (RFC 2046, parameters allowed) is JSON, as CloudEvents' JSON format reads it."""
    essence = value.split(";", 1)[0].strip().lower()
    kind, _, subtype = essence.partition("/")
    return (kind, subtype) in {("application", "json"), ("text", "json")} or (bool(kind) and subtype.endswith("+json"))


class InvalidMessage(ValueError):
    """A message that can never be processed: it goes to the dead-letter topic."""


def new_event_id() -> str:
    """A fresh CloudEvents id (a random UUID)."""
    return random_uuid()


def envelope_for(data: EventData, *, source: str, time: datetime, event_id: str | None = None) -> Envelope:
    """Wrap event data in a CloudEvents envelope."""
    return Envelope(
        id=event_id or new_event_id(),
        source=source,
        type=data.event_type,
        subject=data.key(),
        time=time,
        data=data.model_dump(mode="json"),
    )


_TIME = TypeAdapter(datetime)


def encode_events(events: Iterable[EventData], *, source: str, time: datetime) -> Iterator[tuple[str, bytes]]:
    """Each event's fresh id and its encoded envelope: what ``encode(envelope_for(data, ...))`` gives.

    Built from the data's own JSON and the envelope's fields, without an Envelope model per event (which
    dumped the data to a dict, validated it again and dumped it to JSON: an eighth of a batch's time in ingest).
    The envelope's fields are the same for every event of the call but its id, type and subject.
    ``tests/unit/test_messages.py`` checks that both give the same event.
    """
    after_id = f'","source":{json.dumps(source, ensure_ascii=False)},"type":'
    after_subject = f',"time":{_TIME.dump_json(time).decode()},"datacontenttype":"application/json","data":'
    for data in events:
        event_id = new_event_id()
        head = (f'{{"specversion":"{SPECVERSION}","id":"{event_id}{after_id}{json.dumps(data.event_type)}'
                f',"subject":{json.dumps(data.key(), ensure_ascii=False)}{after_subject}')
        yield event_id, head.encode() + data.model_dump_json().encode() + b"}"


def decode(raw: bytes) -> Envelope:
    """Parse a Kafka message value; raises ``InvalidMessage`` when it is not a CloudEvent we know."""
    try:
        return Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidMessage(f"not a CloudEvents 1.0 JSON event: {exc}") from exc


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope as compact UTF-8 JSON."""
    return envelope.model_dump_json(exclude_none=True).encode()
