from datetime import UTC, datetime

import pytest

from shared.catalogue.model import Measure
from shared.messages import (
    InvalidMessage,
    ObservationRecorded,
    ObservationStatus,
    decode,
    encode,
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
