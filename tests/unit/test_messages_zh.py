"""The Chinese sentences officials read, word for word, for each kind and for the real release calendar."""

from __future__ import annotations

from datetime import date

import pytest

from services.evaluator.domain.evaluation import Reading, Status, evaluate
from services.evaluator.domain.messages_zh import Context, compose, compose_report, fmt, period_zh
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from shared.catalogue import load_catalogue
from shared.messages import ObservationStatus, Severity
from shared.periods import Period

CAT = load_catalogue()
FINAL, PROV = ObservationStatus.FINAL, ObservationStatus.PROVISIONAL


def message(target_id: str, value: float, period: str, obs=FINAL, *, related: float | None = None,
            previous: Status | None = None, previous_severity: Severity | None = None,
            revised_from: float | None = None) -> str:
    t = CAT.targets[target_id]
    r = Reading(value, Period.parse(period), obs)
    rel = Reading(related, Period.parse(period), obs) if related is not None else None
    ev = evaluate(t, r, related=rel, previous=previous)
    ctx = Context(
        lead_zh=CAT.department_name(t.lead_department),
        co_zh=tuple(CAT.department_name(d) for d in t.co_departments), previous=previous,
        previous_severity=previous_severity, is_revision=revised_from is not None, revised_from=revised_from,
        indicator_name_zh=CAT.indicators[t.indicator].name_zh,
        related_name_zh="地区生产总值" if related is not None else None, related=rel,
    )
    return compose(t, r, ev, ctx)


CASES = {
    "quarterly cumulative GDP behind": (
        message("gdp_growth", 4.9, "2024-Q1", PROV),
        "地区生产总值增长（2024年一季度，初步数）：累计同比增长4.9%，全年目标5.5%左右，低于目标0.6个百分点。"
        "状态：滞后。牵头单位：市发展改革委；配合单位：市统计局。",
    ),
    "1—2月 combined release with the seasonal path and the run-rate": (
        message("fixed_asset_investment_total", 400, "2024-M02", PROV),
        "固定资产投资（2024年1—2月，初步数）：累计完成400亿元，完成全年目标4550亿元的8.8%，按往年季节规律应完成11%，"
        "落后2.2个百分点；按当前进度预计全年3636.36亿元；完成全年目标，剩余10个月月均需完成415亿元。"
        "状态：符合进度。牵头单位：市发展改革委；配合单位：市统计局。",
    ),
    "时间过半、任务过半 recovery": (
        message("urban_new_jobs", 6.5, "2024-M06", previous=Status.BEHIND, previous_severity=Severity.WARNING),
        "城镇新增就业（2024年1—6月，最终核实数）：累计完成6.5万人，完成全年目标13万人的50%，时序进度50%，"
        "与时序进度持平；按当前进度预计全年13万人；完成全年目标，剩余6个月月均需完成1.08万人。"
        "状态由“滞后”转为“符合进度”，预警解除。牵头单位：市人力资源社会保障局；配合单位：市统计局。",
    ),
    "a revision that changes the status": (
        message("gdp_growth", 5.2, "2024-Q2", previous=Status.BEHIND, previous_severity=Severity.WARNING,
                revised_from=4.9),
        "地区生产总值增长（2024年上半年，最终核实数）：累计同比增长5.2%，全年目标5.5%左右，低于目标0.3个百分点。"
        "状态由“滞后”转为“符合进度”，预警解除。本次评估依据修订后的数据（由4.9%修订为5.2%）。"
        "牵头单位：市发展改革委；配合单位：市统计局。",
    ),
    "a fall is a 下降, not a negative growth": (
        message("gdp_growth", -1.2, "2024-Q2"),
        "地区生产总值增长（2024年上半年，最终核实数）：累计同比下降1.2%，全年目标5.5%左右，低于目标6.7个百分点。"
        "状态：严重滞后。牵头单位：市发展改革委；配合单位：市统计局。",
    ),
    "a cap breach on provisional data": (
        message("cpi_within_provincial_limit", 3.2, "2024-M08", PROV),
        "居民消费价格涨幅控制在省定范围内（2024年1—8月，初步数）：累计同比上涨3.2%，控制目标3%以内（省定范围），"
        "超出上限0.2个百分点。状态：突破上限。因数据为初步数，尚未最终核实，预警级别暂按一般预警处理。"
        "牵头单位：市发展改革委；配合单位：市统计局。",
    ),
    "a relational target": (
        message("income_in_step_with_growth", 4.9, "2024-Q2", related=5.6),
        "居民人均可支配收入与经济增长基本同步（2024年上半年，最终核实数）：居民人均可支配收入累计同比增长4.9%，"
        "地区生产总值累计同比增长5.6%，增速低于地区生产总值增速0.7个百分点（基本同步按相差不超过0.5个百分点掌握）。"
        "状态：滞后。牵头单位：市发展改革委；配合单位：市统计局、市人力资源社会保障局。",
    ),
    "a year-end verdict": (
        message("new_little_giants", 76, "2024"),
        "新增国家专精特新“小巨人”企业（2024年全年，最终核实数）：累计完成76家，完成全年目标80家的95%。"
        "状态：未完成。牵头单位：市工业和信息化局。",
    ),
    "a level along the path from its 2023 figure": (
        message("tech_smes_registered", 1.3, "2024-Q2"),
        "科技型中小企业评价入库（2024年6月末，最终核实数）：达到1.3万家，目标1.4万家；较2023年1.2453万家，"
        "完成提升任务的35.4%，时序进度50%，落后14.6个百分点。状态：严重滞后。牵头单位：市科技局。",
    ),
    "done early": (
        message("urban_new_jobs", 13.5, "2024-M11"),
        "城镇新增就业（2024年1—11月，最终核实数）：累计完成13.5万人，完成全年目标13万人的103.8%，时序进度91.7%，"
        "超前12.2个百分点；按当前进度预计全年14.73万人；已提前完成全年目标。状态：超前。"
        "牵头单位：市人力资源社会保障局；配合单位：市统计局。",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_message(case: str) -> None:
    got, want = CASES[case]
    assert got == want


def test_status_report_message() -> None:
    t = CAT.targets["binding_environment_targets"]
    ev = evaluate_report(ReportedStatus.AT_RISK)
    text = compose_report(t, ev, Context(lead_zh="市生态环境局", co_zh=("市发展改革委",)),
                          reported=ReportedStatus.AT_RISK, reported_by_zh="市生态环境局",
                          reported_on=date(2024, 7, 5), note="PM2.5浓度同比上升，完成省下达目标存在压力。")
    assert text == (
        "节能减排、水和大气环境质量等约束性指标完成省下达目标（市生态环境局2024年7月5日报告）："
        "进展情况为“存在完成风险”，说明：PM2.5浓度同比上升，完成省下达目标存在压力。状态：存在风险。"
        "牵头单位：市生态环境局；配合单位：市发展改革委。"
    )


@pytest.mark.parametrize(
    ("target_id", "period", "label"),
    [
        ("gdp_growth", "2024-Q1", "2024年一季度"),
        ("gdp_growth", "2024-Q3", "2024年前三季度"),
        ("gdp_growth", "2024-Q4", "2024年全年"),
        ("retail_sales_growth", "2024-M02", "2024年1—2月"),
        ("retail_sales_growth", "2024-M12", "2024年1—12月"),
        ("tech_enterprise_loans_growth", "2024-M06", "2024年6月"),
        ("deposits_and_loans_5tn", "2024-M06", "2024年6月末"),
        ("owners_committee_coverage", "2024-Q3", "2024年9月末"),
        ("urban_sewage_collection_rate", "2024", "2024年末"),
    ],
)
def test_periods_in_release_terms(target_id: str, period: str, label: str) -> None:
    assert period_zh(CAT.targets[target_id], Reading(1.0, Period.parse(period), FINAL)) == label


@pytest.mark.parametrize(("x", "text"), [(4550.0, "4550"), (0.6000000001, "0.6"), (1.2453, "1.25"), (-0.0, "0")])
def test_numbers_print_as_releases_print_them(x: float, text: str) -> None:
    assert fmt(x) == text
