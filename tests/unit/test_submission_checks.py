"""Each check a figure passes before it is stored (services/ingest/domain/observations.py ``check_submission``),
as a table of refusals given whole: the row, the field, the rule, and both languages."""

from __future__ import annotations

from datetime import date

import pytest

from services.ingest.domain.observations import Checked, FieldError, Submission, check_submission
from shared.catalogue import load_catalogue

CAT = load_catalogue()
TODAY = date(2024, 8, 15)
REGIONS_EN = "wuxi, jiangyin, yixing, liangxi, xishan, huishan, binhu, xinwu, jingkai"
REGIONS_ZH = ("wuxi（无锡市）、jiangyin（江阴市）、yixing（宜兴市）、liangxi（梁溪区）、xishan（锡山区）、"
              "huishan（惠山区）、binhu（滨湖区）、xinwu（新吴区）、jingkai（经开区）")
GDP_UNITS = "（可用：元、万元、亿元、万亿元）"


def _sub(**kw: object) -> Submission:
    base: dict[str, object] = dict(indicator="gdp", region="wuxi", period="2024-Q2", measure="cumulative_yoy_pct",
                                   value=5.2, unit="%", status="provisional")
    return Submission(**{**base, **kw})  # type: ignore[arg-type]


def E(field: str, rule: str, message: str, message_zh: str) -> FieldError:
    return FieldError(2, field, rule, message, message_zh)


@pytest.mark.parametrize(("changes", "errors"), [
    ({"region": "nanjing"}, [E("region", "unknown_region", f"unknown region 'nanjing'; one of {REGIONS_EN}",
                               f"未知地区“nanjing”；应为以下之一：{REGIONS_ZH}")]),
    ({"period": "2024-Q4"}, [E("period", "period_in_future", "period 2024-Q4 begins 2024-10-01, after today "
                               "(2024-08-15)", "期别2024-Q4尚未开始（2024-10-01开始）")]),
    ({"period": "2024-Q3"}, [E("period", "period_not_ended", "period 2024-Q3 has not ended (it ends 2024-09-30)",
                               "期别2024-Q3尚未结束（2024-09-30结束），其数据须在期末之后报送")]),
    ({"period": "2024/6/30"}, [E("period", "period_format", "'2024/6/30' is not a period code: use YYYY, "
                                 "YYYY-S1..S2, YYYY-Q1..Q4 or YYYY-M01..M12",
                                 "期别“2024/6/30”格式有误：应为 2024、2024-S1（半年）、2024-Q1（季度）或 2024-M03"
                                 "（月份，2024-M02 为1—2月）")]),
    ({"period": "2024-M06"}, [E("period", "period_frequency", "gdp is published quarterly; a monthly period is finer "
                                "than that", "地区生产总值按季度发布，不能按更细的月度期别报送")]),
    ({"value": float("nan")}, [E("value", "finite", "value must be a finite number",
                                 "数值必须是有限数（不能是 NaN 或无穷大）")]),
    ({"measure": "level"}, [E("measure", "measure_not_reported", "gdp is reported as cumulative_level, "
                              "cumulative_yoy_pct, not level",
                              "地区生产总值的口径为cumulative_level、cumulative_yoy_pct，不接受level"),
                            E("unit", "unit_mismatch", "'%' cannot be converted to '亿元'",
                              f"单位“%”无法换算为地区生产总值的单位“亿元”"
                              f"{GDP_UNITS}")]),
    ({"unit": "亿元"}, [E("unit", "unit_mismatch", "growth rates are in %, not '亿元'",
                        "增速的单位应为 %，不是“亿元”")]),
    ({"measure": "cumulative_level", "unit": "个", "value": 3000},
     [E("unit", "unit_mismatch", "'个' cannot be converted to '亿元'",
        f"单位“个”无法换算为地区生产总值的单位“亿元”{GDP_UNITS}")]),
    ({"measure": "cumulative_level", "unit": "亿元", "value": -5},
     [E("value", "plausible_range", "-5 亿元 is outside the plausible range 0.0..20000.0 亿元 for gdp",
        "-5亿元超出地区生产总值的合理范围（0.0至20000.0亿元），请核对数值和单位")]),
    ({"measure": "cumulative_level", "unit": "万元", "value": 300_000_000},  # 3万亿元: over the range once converted
     [E("value", "plausible_range", "30000 亿元 is outside the plausible range 0.0..20000.0 亿元 for gdp",
        "30000亿元超出地区生产总值的合理范围（0.0至20000.0亿元），请核对数值和单位")]),
    ({"growth_basis": "现价"}, [E("growth_basis", "growth_basis_value", "growth_basis '现价' is not real or nominal",
                                "增长口径“现价”无效：应为 real（实际增长）或 nominal（名义增长）")]),
    ({"measure": "cumulative_level", "unit": "亿元", "value": 3000, "growth_basis": "real"},
     [E("growth_basis", "growth_basis_not_a_growth", "growth_basis applies to growth rates, not cumulative_level",
        "增长口径只适用于增速，不适用于cumulative_level")]),
    ({"indicator": "disposable_income", "growth_basis": "real"},
     [E("growth_basis", "growth_basis_mismatch", "disposable_income is read as nominal growth; a real figure would "
        "compare unlike with unlike",
        "居民人均可支配收入按名义增长（现价）报送和评估，不接受实际增长（扣除价格因素）数据（相关目标按同一口径比较）")]),
], ids=["region", "future", "not-ended", "format", "frequency", "nan", "measure", "pct-unit", "unit", "range-low",
        "range-converted", "basis-value", "basis-not-growth", "basis-mismatch"])
def test_a_refused_figure(changes: dict[str, object], errors: list[FieldError]) -> None:
    assert check_submission(CAT, 2, _sub(**changes), TODAY) == errors


def test_an_accepted_figure_is_converted_to_the_indicators_unit() -> None:
    got = check_submission(CAT, 2, _sub(measure="cumulative_level", unit="万元", value=30_000_000), TODAY)
    assert isinstance(got, Checked) and (got.value, got.unit, got.period.code) == (3000.0, "亿元", "2024-Q2")
    rate = check_submission(CAT, 2, _sub(growth_basis="real"), TODAY)  # gdp is read in real terms
    assert isinstance(rate, Checked) and (rate.value, rate.unit) == (5.2, "%")
    ended_today = check_submission(CAT, 2, _sub(period="2024-Q2"), date(2024, 7, 1))
    assert isinstance(ended_today, Checked)

