"""A year of Wuxi's releases replayed through the real broker into the evaluator (consumer, database, outbox,
relay): exactly the expected status changes come out on the deviations topic, each with its Chinese message.

The calendar is the real one: 1—2月 combined releases in March, quarterly cumulative GDP, income from the
survey team each quarter, a revision of June's investment, a provisional CPI breach confirmed by the final
figure, and the final annual figures in the new year (year-end verdicts).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import func, select

from devstack.broker import TansuBroker
from services.evaluator.adapters.tables import outbox, processed_events
from services.evaluator.config import EvaluatorSettings
from services.evaluator.main import create_app
from shared.kafka import make_producer
from shared.messages import TargetStatusChanged, decode, encode
from tests.integration.evaluator_support import envelope, observation

MIGRATIONS = Path("services/evaluator/migrations")
P, F = "provisional", "final"
G, L = "cumulative_yoy_pct", "cumulative_level"

# In release order. One partition, so the evaluator sees them in exactly this order.
YEAR = [
    # March: the 1—2月 releases
    observation("fixed_asset_investment", "2024-M02", L, 400, unit="亿元"),
    observation("cpi", "2024-M02", G, 0.5),
    observation("urban_new_jobs", "2024-M02", L, 2.0, unit="万人"),
    # April: 一季度 GDP, March's cumulative investment, the survey team's 一季度 income
    observation("gdp", "2024-Q1", G, 4.9),
    observation("fixed_asset_investment", "2024-M03", L, 900, unit="亿元"),
    observation("disposable_income", "2024-Q1", G, 5.0),
    # May, June
    observation("urban_new_jobs", "2024-M04", L, 3.5, unit="万人"),
    observation("cpi", "2024-M05", G, 2.7),
    # July: 上半年
    observation("gdp", "2024-Q2", G, 5.2),
    observation("fixed_asset_investment", "2024-M06", L, 1900, unit="亿元"),
    observation("urban_new_jobs", "2024-M06", L, 6.6, unit="万人"),
    observation("cpi", "2024-M06", G, 2.6),
    observation("disposable_income", "2024-Q2", G, 4.5),
    # August: June's investment revised up
    observation("fixed_asset_investment", "2024-M06", L, 2150, unit="亿元", vintage=2, previous_value=1900),
    # September: 1—8月 prices over the provincial limit (provisional)
    observation("cpi", "2024-M08", G, 3.2),
    # October: 前三季度; the CPI figure for 1—8月 confirmed
    observation("gdp", "2024-Q3", G, 5.3),
    observation("disposable_income", "2024-Q3", G, 5.0),
    observation("fixed_asset_investment", "2024-M09", L, 3300, unit="亿元"),
    observation("cpi", "2024-M08", G, 3.2, status=F, vintage=2, previous_value=3.2),
    # The new year: final annual figures
    observation("gdp", "2024", G, 5.6, status=F),
    observation("fixed_asset_investment", "2024", L, 4600, unit="亿元", status=F),
    observation("cpi", "2024", G, 2.9, status=F),
    observation("urban_new_jobs", "2024", L, 13.8, unit="万人", status=F),
    observation("disposable_income", "2024", G, 5.4, status=F),
]

GDP, FAI, CPI = "gdp_growth", "fixed_asset_investment_total", "cpi_within_provincial_limit"
JOBS, INCOME = "urban_new_jobs", "income_in_step_with_growth"
EXPECTED = [
    (GDP, "2024-Q1", "behind", "warning"),
    (JOBS, "2024-M04", "behind", "warning"),
    (CPI, "2024-M05", "near_cap", "warning"),
    (GDP, "2024-Q2", "on_track", "ok"),
    (FAI, "2024-M06", "behind", "warning"),
    (JOBS, "2024-M06", "on_track", "ok"),
    (INCOME, "2024-Q2", "behind", "warning"),
    (FAI, "2024-M06", "on_track", "ok"),  # the revision
    (CPI, "2024-M08", "breached", "warning"),  # provisional: softened
    (INCOME, "2024-Q3", "on_track", "ok"),
    (CPI, "2024-M08", "breached", "critical"),  # confirmed by the final figure
    (GDP, "2024", "achieved", "ok"),
    (FAI, "2024", "achieved", "ok"),
    (CPI, "2024", "achieved", "ok"),
    (JOBS, "2024", "achieved", "ok"),
    (INCOME, "2024", "achieved", "ok"),
]

MESSAGES = {
    0: "地区生产总值增长（2024年一季度，初步数）：累计同比增长4.9%，全年目标5.5%左右，低于目标0.6个百分点。"
       "状态：滞后。牵头单位：市发展改革委；配合单位：市统计局。",
    4: "固定资产投资（2024年1—6月，初步数）：累计完成1900亿元，完成全年目标4550亿元的41.8%，按往年季节规律应完成48%，"
       "落后6.2个百分点；按当前进度预计全年3958.33亿元；完成全年目标，剩余6个月月均需完成441.67亿元。"
       "状态由“符合进度”转为“滞后”。牵头单位：市发展改革委；配合单位：市统计局。",
    6: "居民人均可支配收入与经济增长基本同步（2024年上半年，初步数）：居民人均可支配收入累计同比增长4.5%，"
       "地区生产总值累计同比增长5.2%，增速低于地区生产总值增速0.7个百分点（基本同步按相差不超过0.5个百分点掌握）。"
       "状态由“符合进度”转为“滞后”。牵头单位：市发展改革委；配合单位：市统计局、市人力资源社会保障局。",
    7: "固定资产投资（2024年1—6月，初步数）：累计完成2150亿元，完成全年目标4550亿元的47.3%，按往年季节规律应完成48%，"
       "落后0.7个百分点；按当前进度预计全年4479.17亿元；完成全年目标，剩余6个月月均需完成400亿元。"
       "状态由“滞后”转为“符合进度”，预警解除。本次评估依据修订后的数据（由1900亿元修订为2150亿元）。"
       "牵头单位：市发展改革委；配合单位：市统计局。",
    8: "居民消费价格涨幅控制在省定范围内（2024年1—8月，初步数）：累计同比上涨3.2%，控制目标3%以内（省定范围），"
       "超出上限0.2个百分点。状态由“接近上限”转为“突破上限”。因数据为初步数，尚未最终核实，预警级别暂按一般预警处理。"
       "牵头单位：市发展改革委；配合单位：市统计局。",
    10: "居民消费价格涨幅控制在省定范围内（2024年1—8月，最终核实数）：累计同比上涨3.2%，控制目标3%以内（省定范围），"
        "超出上限0.2个百分点。状态：突破上限。本次评估依据核实后的数据（3.2%，数值未作调整）。"
        "牵头单位：市发展改革委；配合单位：市统计局。",
    15: "居民人均可支配收入与经济增长基本同步（2024年全年，最终核实数）：居民人均可支配收入累计同比增长5.4%，"
        "地区生产总值累计同比增长5.6%，增速低于地区生产总值增速0.2个百分点（基本同步按相差不超过0.5个百分点掌握）。"
        "状态由“符合进度”转为“已完成”。牵头单位：市发展改革委；配合单位：市统计局、市人力资源社会保障局。",
}


def _wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_year_of_releases_gives_exactly_the_expected_status_changes(
    broker: TansuBroker, database_url: str, topic_prefix: str
) -> None:
    settings = EvaluatorSettings(
        database_url=database_url, kafka_bootstrap_servers=broker.bootstrap, topic_prefix=topic_prefix,
        topic_partitions=1, kafka_session_timeout_ms=2000, kafka_heartbeat_interval_ms=500,
        consumer_group=f"evaluator-{topic_prefix}",  # the session broker is shared: a group of its own
        outbox_poll_interval_s=0.1,
    )
    app = create_app(settings)
    with TestClient(app):
        producer = make_producer(settings, "test-ingest")
        for data in YEAR:
            producer.send(f"{topic_prefix}.observations", key=data.key().encode(), value=encode(envelope(data)))
        producer.flush()
        producer.close()
        engine = app.state.runtime.database.engine

        def processed() -> int:
            with engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(processed_events)).scalar_one()

        def unsent() -> int:
            with engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                                    ).scalar_one()

        _wait(lambda: processed() == len(YEAR), 60, "the evaluator to handle every observation")
        _wait(lambda: unsent() == 0, 30, "the relay to publish every status change")

        tp = TopicPartition(f"{topic_prefix}.deviations", 0)
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                                 fetch_max_wait_ms=50)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        events: list[TargetStatusChanged] = []
        _wait(lambda: consumer.poll(timeout_ms=200) is not None and consumer.highwater(tp) is not None, 10,
              "the deviations topic's high-water mark")
        consumer.seek_to_beginning(tp)
        high = consumer.highwater(tp)
        while consumer.position(tp) < high:
            for records in consumer.poll(timeout_ms=500).values():
                for rec in records:
                    data = decode(rec.value).payload()
                    assert isinstance(data, TargetStatusChanged)
                    events.append(data)
        consumer.close()

    got = [(e.target_id, e.period, e.status, e.severity.value) for e in events]
    assert got == EXPECTED
    for i, text in MESSAGES.items():
        assert events[i].message_zh == text, f"event {i}"
    # Every event says what it replaced and who owns the target.
    assert [e.previous_status for e in events[:3]] == [None, "on_track", "on_track"]
    assert all(e.lead_department == "fgw" or e.target_id == JOBS for e in events)
    assert events[7].is_revision and events[7].revised_from == 1900
    assert events[8].softened and not events[10].softened
    assert all("预警解除" in events[i].message_zh for i in (3, 5, 7, 9, 13))
    assert events[11].status_zh == "已完成" and events[11].period_zh == "2024年全年"
    assert events[1].run_rate_needed == pytest.approx((13 - 3.5) / 8, abs=1e-4) and events[1].months_left == 8
