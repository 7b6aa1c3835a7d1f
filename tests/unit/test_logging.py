"""JSON log lines: one object per line, the service, the context of the event being handled, extra fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from services.ingest.config import IngestSettings
from shared.runtime import ACCESS_LOGGER, LOG_EACH_UP_TO, JsonFormatter, event_fields, log_context, log_events


@pytest.fixture
def lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("evaluator"))
    logger = logging.getLogger("test.json-lines")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def _docs(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_carries_the_service_the_context_and_extras(lines) -> None:
    logger, stream = lines
    with log_context(event_id="e-1", target="gdp_growth"):
        with log_context(department="fgw"):
            logger.info("状态由“符合进度”转为“%s”", "滞后", extra={"alert_id": "a-9"})
        logger.warning("outside the inner block")
    logger.info("no context")
    first, second, third = _docs(stream)
    assert first["message"] == "状态由“符合进度”转为“滞后”" and first["service"] == "evaluator"
    assert (first["event_id"], first["target"], first["department"], first["alert_id"]) == (
        "e-1", "gdp_growth", "fgw", "a-9")
    assert "department" not in second and second["target"] == "gdp_growth" and second["level"] == "WARNING"
    assert "event_id" not in third and third["time"].endswith("+00:00")


def test_exceptions_stay_on_one_line(lines) -> None:
    logger, stream = lines
    try:
        raise RuntimeError("database away")
    except RuntimeError:
        logger.exception("round failed")
    [doc] = _docs(stream)
    assert "RuntimeError: database away" in doc["exception"]


def test_event_fields_name_target_and_department() -> None:
    data = {"target_id": "gdp_growth", "lead_department": "fgw", "indicator": "gdp", "alert_ids": ["a", "b"]}
    assert event_fields("e", "t", data) == {"event_id": "e", "event_type": "t", "target": "gdp_growth",
                                            "department": "fgw", "indicator": "gdp", "alert_ids": "a,b"}


def test_few_events_are_logged_each_many_in_a_summary(lines) -> None:
    logger, stream = lines
    logger.setLevel(logging.INFO)
    log_events(logger, "wrote", ["e1", "e2"], lambda e: {"event_id": e, "event_type": "t"})
    assert [d["event_id"] for d in _docs(stream)] == ["e1", "e2"]
    stream.truncate(0)
    stream.seek(0)
    built: list[str] = []
    log_events(logger, "wrote", [f"e{i}" for i in range(LOG_EACH_UP_TO + 1)],
               lambda e: built.append(e) or {"event_id": e, "event_type": "t"})
    [summary] = _docs(stream)
    assert summary["events"] == LOG_EACH_UP_TO + 1 and not built  # fields not even built at INFO


def test_the_access_log_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.runtime import configure_logging

    configure_logging(IngestSettings(), "ingest")
    assert not logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO)
    monkeypatch.setenv("INGEST_ACCESS_LOG", "true")
    configure_logging(IngestSettings(), "ingest")
    assert logging.getLogger(ACCESS_LOGGER).isEnabledFor(logging.INFO)
    configure_logging(IngestSettings(access_log=False), "ingest")
