"""A sample of the golden table through the real pipeline: ingest's HTTP API → the broker → the evaluator →
the alerts service → a real webhook receiver. The department receives exactly the table's sentence, and the
alert's 期间 is the sentence's own period label.

Ten cases, each on an indicator of its own (so cases cannot see each other) and each ending in a figure that
is news (a warning, a critical or a recovery): a revision, a hold released, last year's figures as weights,
an estimate, a stock at a date, a count recognised at the year end, a binding target, a year-end verdict.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from devstack.broker import TansuBroker
from devstack.receiver import Receiver
from devstack.stack import SERVICES, Stack
from shared.catalogue import load_catalogue
from tests.golden.replay import load_cases

pytestmark = pytest.mark.e2e
CAT = load_catalogue()
SAMPLE = ("G11", "B03", "R02", "L01", "C03", "F08", "N03", "GS01", "D04", "J02")
UNITS = {"cumulative_yoy_pct": "%", "yoy_pct": "%"}


@pytest.fixture
def stack(tmp_path: Path, db_factory, broker: TansuBroker, receiver: Receiver, topic_prefix: str):
    s = Stack(
        data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix,
        database_urls={name: db_factory() for name in SERVICES},
        extra_env={"alerts": {"ALERTS_DEFAULT_WEBHOOK_URL": f"{receiver.url}/all",
                              "ALERTS_WEBHOOK_SECRET": "golden-secret"}},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_a_sample_of_the_golden_table_reaches_the_lead_department_word_for_word(
    stack: Stack, receiver: Receiver
) -> None:
    cases = {c.id: c for c in load_cases()}
    sample = [cases[i] for i in SAMPLE]
    indicators = [{f.indicator for f in c.figures} for c in sample]
    assert all(len(s) == 1 for s in indicators) and len(set().union(*indicators)) == len(sample)
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
    for case in sample:
        for f in case.figures:
            body = {"indicator": f.indicator, "region": "wuxi", "period": f.period, "measure": f.measure,
                    "value": f.value, "status": f.status.value,
                    "unit": UNITS.get(f.measure, CAT.indicators[f.indicator].unit)}
            r = httpx.post(f"{stack.url('ingest')}/v1/observations", json=body, headers=auth, timeout=10)
            assert r.status_code in (200, 201), (case.id, r.text)

    def delivered(case):
        lead = CAT.targets[case.target].lead_department
        for req in receiver.requests:
            doc = req.json()
            event = doc.get("event") or {}
            if (doc["department"]["id"], event.get("target_id"), event.get("period")) == (
                    lead, case.target, case.figures[-1].period) and event.get("status_zh") == case.status:
                return doc
        return None

    found: dict[str, dict] = {}
    for _ in range(120):
        found = {c.id: d for c in sample if (d := delivered(c)) is not None}
        if len(found) == len(sample):
            break
        receiver.wait_for(len(receiver.requests) + 1, timeout_s=1)
    missing = [c.id for c in sample if c.id not in found]
    assert not missing, f"no notification for {missing}; received {len(receiver.requests)}"
    for case in sample:
        doc = found[case.id]
        event = doc["event"]
        assert event["message_zh"] == case.message, case.id
        assert event["severity"] == {"正常": "ok", "一般预警": "warning", "严重预警": "critical"}[case.severity]
        assert f"研判：{case.message}" in doc["text"], case.id
        assert f"期间：{event['period_zh']}" in doc["text"] and event["period_zh"] in case.message, case.id
    assert json.dumps(found["GS01"]["event"], ensure_ascii=False).count("binding") == 1
