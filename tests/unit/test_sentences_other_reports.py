"""研判 sentences for readings the 2024 city report does not make but a district's or next year's report may: a
hard cap (控制在3%以内, no 左右) and targets counted in batches in other months. Each sentence is given whole, as
an official would read it; the catalogue's own targets are in tests/golden/verdicts.csv."""

from __future__ import annotations

import pytest

from shared.catalogue import load_catalogue
from shared.catalogue.loader import Catalogue
from shared.catalogue.model import Target
from tests.golden.replay import parse_figure, run

CAT = load_catalogue()
CPI = CAT.targets["cpi_within_provincial_limit"]
HARD_CAP = CPI.model_copy(update={"params": {k: v for k, v in CPI.params.items()
                                             if k not in ("band_pp", "province_phrase")}})
BATCHES = CAT.targets["new_above_scale_industrial"]


def _with(target: Target) -> Catalogue:
    return Catalogue(CAT.departments.values(), CAT.indicators.values(),
                     [target if t.id == target.id else t for t in CAT.targets.values()], year=CAT.year,
                     region=CAT.region)


HARD = "居民消费价格涨幅控制在省定范围内（2024年{period}，{figure}）：同比上涨{value}，控制目标3%以内，{gap}。"
HARD_RULE = ("判定标准：低于上限0.5个百分点以上为符合进度，距上限0.5个百分点以内为接近上限，超过上限为突破上限。")
CPI_OWNERS = "牵头单位：市发展改革委；配合单位：国家统计局无锡调查队。"


@pytest.mark.parametrize(("figure", "status", "severity", "message"), [
    ("cpi 2024-M06 累计增速 2.0 初步数", "符合进度", "正常",
     HARD.format(period="1—6月", figure="初步数", value="2%", gap="距上限1个百分点") + HARD_RULE
     + "状态：符合进度。" + CPI_OWNERS),
    ("cpi 2024-M06 累计增速 2.7 初步数", "接近上限", "一般预警",
     HARD.format(period="1—6月", figure="初步数", value="2.7%", gap="距上限0.3个百分点") + HARD_RULE
     + "状态：接近上限。" + CPI_OWNERS),
    ("cpi 2024-M06 累计增速 3.0 初步数", "接近上限", "一般预警",  # at the limit is within 以内
     HARD.format(period="1—6月", figure="初步数", value="3%", gap="已达上限") + HARD_RULE
     + "状态：接近上限。" + CPI_OWNERS),
    ("cpi 2024-M06 累计增速 3.2 初步数", "突破上限", "严重预警",
     HARD.format(period="1—6月", figure="初步数", value="3.2%", gap="超出上限0.2个百分点") + HARD_RULE
     + "状态：突破上限。" + CPI_OWNERS),
    ("cpi 2024 累计增速 2.9 最终核实数", "已完成", "正常",
     HARD.format(period="全年", figure="最终核实数", value="2.9%", gap="距上限0.1个百分点")
     + "判定标准：全年涨幅不超过3%为完成目标。状态：已完成。" + CPI_OWNERS),
    ("cpi 2024 累计增速 3.1 最终核实数", "未完成", "严重预警",  # no band to be a little over
     HARD.format(period="全年", figure="最终核实数", value="3.1%", gap="超出上限0.1个百分点")
     + "判定标准：全年涨幅不超过3%为完成目标。状态：未完成。该目标为预期性目标，全年超出控制上限即为突破上限，"
       "按严重预警处理。" + CPI_OWNERS),
], ids=["well-under", "near", "at-the-limit", "over", "year-met", "year-over"])
def test_a_hard_cap(figure: str, status: str, severity: str, message: str) -> None:
    got = run(_with(HARD_CAP), HARD_CAP.id, (parse_figure(figure),))
    assert (got.status, got.severity, got.message) == (status, severity, message)


def test_batches_in_june_and_december_named_as_months() -> None:
    got = run(_with(BATCHES.model_copy(update={"batch_months": (6, 12)})), BATCHES.id,
              (parse_figure("new_above_scale_industrial 2024-M05 累计 100 初步数"),))
    assert got.status == "暂不评估" and got.message == (
        "新增规上工业企业（2024年1—5月，初步数）：累计完成100家，全年目标500家以上。判定规则：该项集中在6月、12月认定，"
        "认定前不按序时进度评估，其间已完成全年目标的为超前，年末判定是否完成。状态：暂不评估。"
        "牵头单位：市工业和信息化局；配合单位：市统计局。")


def test_batches_in_consecutive_months_named_as_a_span() -> None:
    got = run(_with(BATCHES.model_copy(update={"batch_months": (10, 11, 12)})), BATCHES.id,
              (parse_figure("new_above_scale_industrial 2024-M10 累计 300 初步数"),))
    assert got.status == "超前" and got.message == (
        "新增规上工业企业（2024年1—10月，初步数）：累计完成300家，完成率60%（全年目标500家以上），序时进度要求33.3%"
        "（按10—12月集中认定掌握），超前26.7个百分点。判定标准：完成率与序时进度相差不超过3个百分点为符合进度，落后超过3个"
        "百分点为滞后、超过10个百分点为严重滞后，超前超过3个百分点为超前。状态：超前。按当前进度，全年预计约900家；"
        "完成全年目标，剩余2个月月均需完成100家。牵头单位：市工业和信息化局；配合单位：市统计局。")


def test_quarterly_batches_read_against_the_batches_done() -> None:
    got = run(_with(BATCHES.model_copy(update={"batch_months": (3, 6, 9, 12)})), BATCHES.id,
              (parse_figure("new_above_scale_industrial 2024-M05 累计 100 初步数"),))
    assert (got.status, got.severity) == ("滞后", "一般预警")
    assert "序时进度要求25%（按3月、6月、9月、12月集中认定掌握），落后5个百分点" in got.message
