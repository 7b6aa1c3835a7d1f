import json
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from pydantic import ValidationError

from shared.catalogue.model import Measure
from shared.messages import (
    EVENT_TYPES,
    EventData,
    InvalidMessage,
    NotificationDeadLettered,
    ObservationRecorded,
    ObservationStatus,
    TargetStatusChanged,
    decode,
    encode,
    encode_events,
    envelope_for,
)

NOW = datetime(2024, 4, 18, 9, 30, tzinfo=UTC)


def _obs(**kw) -> ObservationRecorded:
    base = dict(observation_id="o1", indicator="gdp", region="wuxi", period="2024-Q1",
                measure=Measure.CUMULATIVE_YOY_PCT, value=4.9, unit="%", status=ObservationStatus.PROVISIONAL,
                vintage=1, submitted_by="市统计局", recorded_at=NOW)
    base.update(kw)
    return ObservationRecorded(**base)


def test_events_round_trip_as_cloudevents() -> None:
    env = envelope_for(_obs(), source="/wuxi-targets/ingest", time=NOW)
    raw = encode(env)
    back = decode(raw)
    assert back.specversion == "1.0"
    assert back.type == "cn.gov.wuxi.targets.observation.recorded.v1"
    assert back.subject == "gdp"
    assert back.payload() == _obs()
    assert "地区" not in raw.decode()  # compact JSON of data only; Chinese survives as UTF-8 where present
    assert '"submitted_by":"市统计局"' in raw.decode()


def test_the_key_is_the_indicator() -> None:
    assert _obs(indicator="retail_sales").key() == "retail_sales"


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"{}", b'{"specversion":"0.3","id":"x","source":"s","type":"t","data":{}}',
     b'{"specversion":"1.0","id":"x","source":"s","type":"unknown.v1","data":{}}'],
)
def test_malformed_or_unknown_messages_are_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidMessage):
        decode(raw).payload()


def test_data_that_breaks_its_schema_is_invalid() -> None:
    env = envelope_for(_obs(), source="s", time=NOW)
    broken = env.model_copy(update={"data": {**env.data, "vintage": 0}})
    with pytest.raises(InvalidMessage, match="vintage"):
        broken.payload()


# The required fields of each v1 type, as first published. Every field added to a version since must be
# optional with a default, or an older producer's events stop validating; a breaking change is a new type.
V1_REQUIRED = {
    ObservationRecorded: {"observation_id", "indicator", "region", "period", "measure", "value", "unit", "status",
                          "vintage", "submitted_by", "recorded_at"},
    TargetStatusChanged: {"evaluation_id", "target_id", "target_name_zh", "section", "kind", "indicator", "region",
                          "period", "status", "severity", "previous_status", "previous_severity", "actual", "expected",
                          "target_value", "unit", "gap_abs", "gap_rel", "gap_pp", "progress", "expected_progress",
                          "projection", "run_rate_needed", "observation_status", "lead_department", "message_zh",
                          "observation_id", "observation_vintage", "evaluated_at"},
    NotificationDeadLettered: {"notification_id", "idempotency_key", "alert_ids", "kind", "department", "channel",
                               "attempts", "last_error", "created_at", "dead_at"},
}


@pytest.mark.parametrize("cls", list(V1_REQUIRED), ids=lambda c: c.__name__)
def test_fields_added_to_a_version_are_optional(cls: type[EventData]) -> None:
    required = {name for name, f in cls.model_fields.items() if f.is_required()}
    assert required == V1_REQUIRED[cls], (
        f"{cls.__name__} ({cls.event_type}): a field added to a published version must have a default; "
        "a breaking change is a new type (….v2) consumed beside this one")


def test_a_newer_producers_fields_are_ignored_by_an_older_reader() -> None:
    env = envelope_for(_obs(), source="/wuxi-targets/ingest", time=NOW)
    newer = env.model_copy(update={"data": {**env.data, "seasonally_adjusted": True, "quality": {"flag": "B"}}})
    data, unknown = decode(encode(newer)).read()
    assert data == _obs()
    assert unknown == {"seasonally_adjusted", "quality"}


def test_writers_stay_strict() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ObservationRecorded(**_obs().model_dump(), misspelt_field=1)


def test_a_breaking_change_is_a_new_type_read_beside_the_old(monkeypatch: pytest.MonkeyPatch) -> None:
    class ObservationRecordedV2(EventData):
        event_type: ClassVar[str] = "cn.gov.wuxi.targets.observation.recorded.v2"
        topic: ClassVar[str] = "observations"
        observation_id: str
        figure: float  # renamed from value: a breaking change

        def key(self) -> str:
            return self.observation_id

    monkeypatch.setitem(EVENT_TYPES, ObservationRecordedV2.event_type, ObservationRecordedV2)
    old = decode(encode(envelope_for(_obs(), source="s", time=NOW))).payload()
    new = decode(encode(envelope_for(ObservationRecordedV2(observation_id="o1", figure=4.9), source="s",
                                     time=NOW))).payload()
    assert isinstance(old, ObservationRecorded) and isinstance(new, ObservationRecordedV2)


def test_an_event_id_too_long_to_record_is_invalid() -> None:
    raw = encode(envelope_for(_obs(), source="s", time=NOW)).replace(b'"id":"', b'"id":"' + b"x" * 60, 1)
    with pytest.raises(InvalidMessage, match="id"):
        decode(raw)


def test_events_encoded_in_bulk_are_the_envelopes_encode_gives() -> None:
    """The outbox's fast path (encode_events) must write the same event as an Envelope would, byte for meaning,
    including strings JSON must escape and Chinese text."""
    odd = 'a "quoted" \\ back\nslash {brace} 市统计局\t\u2028'
    events: list[EventData] = [
        _obs(),
        _obs(revision_reason=odd, previous_value=4.7, vintage=2, indicator="retail_sales"),
        NotificationDeadLettered(notification_id=1, idempotency_key="k", alert_ids=("a", "b"), kind="firing",
                                 department="rsj", channel="webhook", attempts=3, last_error=odd,
                                 created_at=NOW, dead_at=NOW),
    ]
    source = '/wuxi-targets/"ingest" {1}'
    encoded = list(encode_events(events, source=source, time=NOW))
    assert len({event_id for event_id, _ in encoded}) == 3
    for data, (event_id, raw) in zip(events, encoded, strict=True):
        slow = encode(envelope_for(data, source=source, time=NOW, event_id=event_id))
        assert json.loads(raw) == json.loads(slow)
        assert decode(raw) == decode(slow)
        assert decode(raw).payload() == data
        assert uuid.UUID(event_id).version == 4
