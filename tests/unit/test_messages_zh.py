"""The Chinese sentences officials read: wording rules (issue 10, item 10) checked on the pure domain.

tests/golden/verdicts.csv holds the exact sentences of ninety-odd cases; this file checks the rules each
sentence must follow, over many figures at once.
"""

from __future__ import annotations

from datetime import date

import pytest

from services.evaluator.domain.evaluation import Evaluation, Reading, Status, evaluate
from services.evaluator.domain.judging import Arrival, judge, roles_of
from services.evaluator.domain.messages_zh import Context, _hold, compose, compose_report, fmt, period_zh
from services.evaluator.domain.selection import Inputs
from services.evaluator.domain.status_reports import ReportedStatus, evaluate_report
from shared.catalogue import load_catalogue
from shared.catalogue.model import QUANTITATIVE_KINDS, Kind, Target
from shared.messages import ObservationStatus
from shared.periods import Period
from tests.unit.test_ranking import ENERGY

CAT = load_catalogue()
FINAL, PROV, EST = ObservationStatus.FINAL, ObservationStatus.PROVISIONAL, ObservationStatus.ESTIMATED


def sentence(target_id: str, value: float, period: str, status: ObservationStatus = PROV) -> str:
    """The sentence for one figure of a target's own series (relational targets get GDP 5.2 and CPI 0.3)."""
    t = CAT.targets[target_id]
    p = Period.parse(period)
    own = [Reading(value, p, status, vintage=1)]
    arrival = Arrival(str(t.indicator), str(t.measure), p, 1)
    [(target, series, role)] = [r for r in roles_of(CAT, arrival) if r[0].id == target_id]
    inputs = Inputs(own, [Reading(5.2, p, PROV)], [Reading(0.3, p, PROV)])
    judged = judge(CAT, target, series, role, inputs, None, arrival)
    assert judged is not None
    return judged.composed.text


QUANTITATIVE = [t for t in CAT.targets.values() if t.kind in QUANTITATIVE_KINDS]
PERIODS = {"M": ["2024-M02", "2024-M06", "2024-M11", "2024-M12"], "Q": ["2024-Q1", "2024-Q3", "2024-Q4"],
           "A": ["2024"]}


def _figures(t):
    base = t.value if t.value is not None else 3.0
    for period in PERIODS[CAT.indicators[t.indicator].frequency]:
        share = Period.parse(period).year_fraction if t.kind in (Kind.COUNT, Kind.CUMULATIVE_TOTAL) else 1.0
        for factor in (0.5, 0.97, 1.0, 1.2):
            yield round(base * share * factor, 2), period


@pytest.mark.parametrize("target", QUANTITATIVE, ids=lambda t: t.id)
def test_every_sentence_follows_the_wording_rules(target) -> None:
    for value, period in _figures(target):
        text = sentence(target.id, value, period)
        assert "时序进度" not in text and "累计同比" not in text, text  # one term, 序时进度; 同比增长
        assert not any(c in text for c in ",") and "-" not in text, text  # no thousands separators, no minus
        assert "判定标准" in text or "判定规则" in text, text  # the rule applied, with its thresholds
        assert "状态" in text and text.endswith("。"), text
        assert "（" + period_zh(target, Reading(value, Period.parse(period), PROV),
                               at_date=CAT.indicators[target.indicator].at_date) in text, text
        if target.kind == Kind.LEVEL and value < (target.value or 0):
            assert "达到" not in text, text  # a level short of its target does not say 达到


@pytest.mark.parametrize(
    ("target_id", "value", "period", "fragments"),
    [
        ("gdp_growth", 4.8, "2024-Q3", ("2024年前三季度，初步核算数", "同比增长4.8%", "四季度需增长5.6%以上")),
        ("gdp_growth", 5.6, "2024", ("2024年全年，初步核算数", "状态：已完成", "修订将重新判定")),
        ("gdp_growth", 5.6, "2024", ("2024年全年，初步核算数",)),
        ("retail_sales_growth", 5.4, "2024-M02", ("2024年1—2月，初步数", "3—12月需增长")),
        ("tech_enterprise_loans_growth", 10.5, "2024-M06", ("2024年6月末", "余额同比增长10.5%")),
        ("deposits_and_loans_5tn", 4.9, "2024-M06", ("2024年6月末", "余额为4.9万亿元", "尚差1000亿元")),
        ("cpi_within_provincial_limit", 3.2, "2024-M08", ("省定调控目标3%左右", "上限3.5%", "接近上限")),
        ("fixed_asset_investment_total", 2400, "2024-M06", ("累计完成2400亿元", "完成率52.7%", "序时进度要求50%",
                                                            "全年预计约4800亿元", "月均需完成358.33亿元")),
        ("new_above_scale_industrial", 490, "2024-Q4", ("完成率98%", "状态：未完成", "差距不大，按一般预警处理")),
        ("grain_sown_area", 121, "2024", ("约束性目标（报告用语“确保”）", "严重预警")),
        ("urban_new_jobs", 12.8, "2024", ("差2000人",)),  # a count in 万 short by less than one 万: whole
        ("gdp_growth", 4.4, "2024-Q3", ("初步核算数",)),
    ],
)
def test_sentences_say_what_releases_say(target_id: str, value: float, period: str, fragments) -> None:
    text = sentence(target_id, value, period)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} missing from {text}"


def test_an_estimate_says_so_and_a_final_annual_figure_is_a_final_one() -> None:
    assert "（2024年前三季度，预计数）" in sentence("gdp_growth", 4.4, "2024-Q3", EST)
    assert "因数据为预计数，预警级别暂按一般预警处理" in sentence("gdp_growth", 4.4, "2024-Q3", EST)
    assert "（2024年全年，最终核实数）" in sentence("gdp_growth", 5.0, "2024", FINAL)
    assert "（2024年上半年，核实数）" in sentence("gdp_growth", 5.0, "2024-Q2", FINAL)  # 最终核实 is annual only


def test_status_report_message() -> None:
    t = CAT.targets["binding_environment_targets"]
    ev = evaluate_report(ReportedStatus.AT_RISK, t.strength)
    text = compose_report(t, ev, Context(lead_zh="市生态环境局", co_zh=("市发展改革委",)),
                          reported=ReportedStatus.AT_RISK, reported_by_zh="市生态环境局",
                          reported_on=date(2024, 7, 5), note="PM2.5浓度同比上升，完成省下达目标存在压力。")
    assert text == (
        "节能减排、水和大气环境质量等约束性指标完成省下达目标（市生态环境局2024年7月5日报告）："
        "进展情况为“存在完成风险”，说明：PM2.5浓度同比上升，完成省下达目标存在压力。状态：存在风险。"
        "牵头单位：市生态环境局；配合单位：市发展改革委。"
    )


def test_a_missed_milestone_says_how_its_strength_weighs() -> None:
    t = CAT.targets["trusted_consumption_city"]  # 争创: expected
    ev = evaluate_report(ReportedStatus.MISSED, t.strength)
    text = compose_report(t, ev, Context(lead_zh="市市场监管局", previous=Status.IN_PROGRESS),
                          reported=ReportedStatus.MISSED, reported_by_zh="市市场监管局",
                          reported_on=date(2024, 12, 20), note="未获命名")
    assert ev.severity == "warning" and "该目标为预期性目标，按一般预警处理。" in text


@pytest.mark.parametrize(
    ("target_id", "period", "label"),
    [
        ("gdp_growth", "2024-Q1", "2024年一季度"),
        ("gdp_growth", "2024-Q3", "2024年前三季度"),
        ("gdp_growth", "2024-Q4", "2024年全年"),
        ("gdp_growth", "2024-S1", "2024年上半年"),
        ("retail_sales_growth", "2024-M02", "2024年1—2月"),
        ("retail_sales_growth", "2024-M12", "2024年1—12月"),
        ("deposits_and_loans_5tn", "2024-M06", "2024年6月末"),
        ("owners_committee_coverage", "2024-Q3", "2024年9月末"),
        ("urban_sewage_collection_rate", "2024", "2024年"),
        ("grain_sown_area", "2024", "2024年"),
    ],
)
def test_periods_in_release_terms(target_id: str, period: str, label: str) -> None:
    t = CAT.targets[target_id]
    at_date = CAT.indicators[t.indicator].at_date
    assert period_zh(t, Reading(1.0, Period.parse(period), FINAL), at_date=at_date) == label


@pytest.mark.parametrize(("x", "text"), [(4550.0, "4550"), (0.6000000001, "0.6"), (1.2453, "1.25"), (-0.0, "0")])
def test_numbers_print_as_releases_print_them(x: float, text: str) -> None:
    assert fmt(x) == text


# 能耗下降3%以上 (a decline: at most −3%), a made-up target (the 2024 catalogue has none). Held at 严重滞后 after −2.0%:
# leaving it needs the figure to fall to −2.1% or lower, so the sentence must say 降至…及以下, never 达到…及以上
# (which −2.0% already satisfies).
def test_the_figure_that_releases_a_held_decline_is_a_fall() -> None:
    ev = evaluate_for(ENERGY, -2.0, "2024-M06", previous=Status.FAR_BEHIND)
    assert _hold(ENERGY, ev) == ("上期为“严重滞后”，为防止在界限附近反复变动，须降至-2.1%及以下方转为“滞后”，"
                                 "本期维持“严重滞后”。")
    assert _hold(ENERGY, evaluate_for(ENERGY, -2.0, "2024-M06", previous=None)) == ""  # nothing held, nothing said


def evaluate_for(target: Target, value: float, period: str, *, previous: Status | None) -> Evaluation:
    return evaluate(target, Reading(value, Period.parse(period), PROV), previous=previous)


# A revision whose replaced value is not known (an event from before revisions carried it) says only that the
# figure was revised, with its vintage where it has one.
@pytest.mark.parametrize(("vintage", "words"), [
    pytest.param(3, "本次评估依据修订后的数据（第3版）。", id="with-vintage"),
    pytest.param(None, "本次评估依据修订后的数据。", id="without-vintage"),
])
def test_a_revision_of_an_unknown_figure(vintage: int | None, words: str) -> None:
    t = CAT.targets["gdp_growth"]
    r = Reading(4.8, Period.parse("2024-Q2"), PROV, vintage=vintage)
    text = compose(t, r, evaluate(t, r), Context(lead_zh="市发展改革委", is_revision=True, provisional_zh="初步核算数"))
    assert text.endswith(words + "牵头单位：市发展改革委。"), text
