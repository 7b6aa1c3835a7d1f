"""A year of Wuxi's releases replayed through the real broker into the evaluator (consumer, database, outbox,
relay): exactly the expected status changes come out on the deviations topic, each with its Chinese message.

The calendar is the real one: last year's 1—N月 investment figures sent in January (the path 序时进度 then
follows), 1—2月 combined releases in March, quarterly GDP, income from the survey team each quarter (compared
in real terms, deflated by the CPI for the same months), a revision of June's investment, a retail estimate
(预计数) confirmed by the figure itself, and the year's figures in the new year (year-end verdicts). The
figures are illustrative: they follow the shape of the releases, not Wuxi's actual 2024 values.
"""

from __future__ import annotations

import time
from pathlib import Path

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
P, E, F = "provisional", "estimated", "final"
G, L = "cumulative_yoy_pct", "cumulative_level"

# In release order. One partition, so the evaluator sees them in exactly this order.
YEAR = [
    # January: 2023's released 1—N月 investment (illustrative), the path this year's 序时进度 follows
    *(observation("fixed_asset_investment", p, L, v, unit="亿元", status=F)
      for p, v in (("2023-M02", 430), ("2023-M03", 1000), ("2023-M06", 2150), ("2023-M09", 3300), ("2023", 4420))),
    # March: the 1—2月 releases
    observation("fixed_asset_investment", "2024-M02", L, 400, unit="亿元"),
    observation("cpi", "2024-M02", G, 0.5),
    observation("urban_new_jobs", "2024-M02", L, 2.0, unit="万人"),
    # April: 一季度 GDP, March's cumulative investment, the survey team's 一季度 income (no CPI for 1—3月 yet)
    observation("gdp", "2024-Q1", G, 4.9),
    observation("fixed_asset_investment", "2024-M03", L, 900, unit="亿元"),
    observation("disposable_income", "2024-Q1", G, 5.0),
    # May, June
    observation("urban_new_jobs", "2024-M04", L, 3.5, unit="万人"),
    observation("cpi", "2024-M05", G, 1.0),
    # July: 上半年
    observation("gdp", "2024-Q2", G, 5.2),
    observation("fixed_asset_investment", "2024-M06", L, 1900, unit="亿元"),
    observation("urban_new_jobs", "2024-M06", L, 6.6, unit="万人"),
    observation("cpi", "2024-M06", G, 1.2),
    observation("disposable_income", "2024-Q2", G, 5.6),
    # August: June's investment revised up
    observation("fixed_asset_investment", "2024-M06", L, 2150, unit="亿元", vintage=2, previous_value=1900),
    # September: an estimate (预计数) of 1—8月 retail sales
    observation("retail_sales", "2024-M08", G, 5.2, status=E),
    # October: 前三季度; the retail estimate confirmed by the figure itself
    observation("gdp", "2024-Q3", G, 5.3),
    observation("cpi", "2024-M09", G, 1.0),
    observation("disposable_income", "2024-Q3", G, 6.0),
    observation("fixed_asset_investment", "2024-M09", L, 3300, unit="亿元"),
    observation("retail_sales", "2024-M08", G, 5.2, status=P, vintage=2, previous_value=5.2),
    # The new year: the year's figures
    observation("gdp", "2024", G, 5.6, status=F),
    observation("fixed_asset_investment", "2024", L, 4600, unit="亿元", status=F),
    observation("cpi", "2024", G, 1.1, status=F),
    observation("urban_new_jobs", "2024", L, 13.8, unit="万人", status=F),
    observation("disposable_income", "2024", G, 6.4, status=F),
    observation("retail_sales", "2024", G, 6.3, status=F),
]

GDP, FAI, CPI = "gdp_growth", "fixed_asset_investment_total", "cpi_within_provincial_limit"
JOBS, INCOME, RETAIL = "urban_new_jobs", "income_in_step_with_growth", "retail_sales_growth"
EXPECTED = [
    (GDP, "2024-Q1", "behind", "warning"),
    (JOBS, "2024-M04", "behind", "warning"),
    (GDP, "2024-Q2", "on_track", "ok"),
    (FAI, "2024-M06", "behind", "warning"),  # 41.8% against 2023's 48.6% by 1—6月
    (JOBS, "2024-M06", "on_track", "ok"),
    (INCOME, "2024-Q2", "behind", "warning"),  # real 4.3% against GDP's 5.2%
    (FAI, "2024-M06", "on_track", "ok"),  # the revision
    (RETAIL, "2024-M08", "far_behind", "warning"),  # an estimate: softened
    (INCOME, "2024-Q3", "on_track", "ok"),
    (RETAIL, "2024-M08", "far_behind", "critical"),  # the figure itself: not softened
    (GDP, "2024", "achieved", "ok"),
    (FAI, "2024", "achieved", "ok"),
    (CPI, "2024", "achieved", "ok"),
    (JOBS, "2024", "achieved", "ok"),
    (INCOME, "2024", "achieved", "ok"),
    (RETAIL, "2024", "achieved", "ok"),
]

MESSAGES = {
    0: "地区生产总值增长（2024年一季度，初步核算数）：同比增长4.9%，全年目标增长5.5%左右，低于目标区间下限（5%）"
       "0.1个百分点。判定标准：增速5%—6%（目标±0.5个百分点）为符合进度，低于5%为滞后，低于4.5%为严重滞后，"
       "高于6%为超前。状态：滞后。要实现全年增长5%（目标区间下限），后三个季度需增长5%以上（未报送2023年同期累计"
       "数据，各季度按等权估算）。牵头单位：市发展改革委；配合单位：市统计局。",
    3: "固定资产投资（2024年1—6月，初步数）：累计完成1900亿元，完成率41.8%（全年目标4550亿元），序时进度要求48.6%"
       "（按2023年同期进度；按时间进度为50%），落后6.8个百分点。判定标准：完成率与序时进度相差不超过3个百分点为"
       "符合进度，落后超过3个百分点为滞后、超过10个百分点为严重滞后，超前超过3个百分点为超前。状态由“符合进度”转为"
       "“滞后”。按2023年进度分布推算，全年预计约3910亿元；完成全年目标，剩余6个月需完成2650亿元。"
       "牵头单位：市发展改革委；配合单位：市统计局。",
    5: "居民人均可支配收入与经济增长基本同步（2024年上半年，初步数）：居民人均可支配收入名义增长5.6%，扣除价格因素"
       "（居民消费价格上涨1.2%）实际增长4.3%；地区生产总值增长5.2%；实际增速低于地区生产总值增速0.9个百分点。"
       "判定标准：两者相差不超过0.5个百分点为基本同步（符合进度），低出超过0.5个百分点为滞后、超过1个百分点为"
       "严重滞后，高出超过0.5个百分点为超前。状态：滞后。"
       "牵头单位：市发展改革委；配合单位：国家统计局无锡调查队、市人力资源社会保障局。",
    6: "固定资产投资（2024年1—6月，初步数）：累计完成2150亿元，完成率47.3%（全年目标4550亿元），序时进度要求48.6%"
       "（按2023年同期进度；按时间进度为50%），落后1.3个百分点。判定标准：完成率与序时进度相差不超过3个百分点为"
       "符合进度，落后超过3个百分点为滞后、超过10个百分点为严重滞后，超前超过3个百分点为超前。状态由“滞后”转为"
       "“符合进度”，预警解除。按2023年进度分布推算，全年预计约4420亿元；完成全年目标，剩余6个月需完成2400亿元。"
       "本次评估依据修订后的数据（第2版，由1900亿元修订为2150亿元）。牵头单位：市发展改革委；配合单位：市统计局。",
    7: "社会消费品零售总额增长（2024年1—8月，预计数）：同比增长5.2%，全年目标增长6.5%左右，低于目标区间下限（6%）"
       "0.8个百分点。判定标准：增速6%—7%（目标±0.5个百分点）为符合进度，低于6%为滞后，低于5.5%为严重滞后，"
       "高于7%为超前。状态：严重滞后。要实现全年增长6%（目标区间下限），9—12月需增长7.6%以上（未报送2023年同期"
       "累计数据，各月按等权估算）。因数据为预计数，预警级别暂按一般预警处理。牵头单位：市商务局；配合单位：市统计局。",
    9: "社会消费品零售总额增长（2024年1—8月，初步数）：同比增长5.2%，全年目标增长6.5%左右，低于目标区间下限（6%）"
       "0.8个百分点。判定标准：增速6%—7%（目标±0.5个百分点）为符合进度，低于6%为滞后，低于5.5%为严重滞后，"
       "高于7%为超前。状态：严重滞后。要实现全年增长6%（目标区间下限），9—12月需增长7.6%以上（未报送2023年同期"
       "累计数据，各月按等权估算）。本次评估依据更新后的数据（初步数，第2版，5.2%，数值未作调整）。"
       "牵头单位：市商务局；配合单位：市统计局。",
    14: "居民人均可支配收入与经济增长基本同步（2024年全年，最终核实数）：居民人均可支配收入名义增长6.4%，扣除价格因素"
        "（居民消费价格上涨1.1%）实际增长5.2%；地区生产总值增长5.6%；实际增速低于地区生产总值增速0.4个百分点。"
        "判定标准：全年收入实际增速低于地区生产总值增速不超过0.5个百分点为完成目标。状态由“符合进度”转为“已完成”。"
        "牵头单位：市发展改革委；配合单位：国家统计局无锡调查队、市人力资源社会保障局。",
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
    assert [e.previous_status for e in events[:3]] == [None, "on_track", "behind"]
    assert all(e.lead_department == {JOBS: "rsj", RETAIL: "swj"}.get(e.target_id, "fgw") for e in events)
    assert events[6].is_revision and events[6].revised_from == 1900
    assert events[7].softened and events[7].figure_zh == "预计数" and not events[9].softened
    assert all("预警解除" in events[i].message_zh for i in (2, 4, 6, 8, 15))
    assert events[10].status_zh == "已完成" and events[10].period_zh == "2024年全年" and events[10].year_end
    assert events[1].run_rate_needed == 1.19 and events[1].months_left == 8  # (13 - 3.5) / 8, as the text says
    assert events[5].related_actual == 5.2 and events[5].actual == 4.3  # real income growth, deflated by the CPI
