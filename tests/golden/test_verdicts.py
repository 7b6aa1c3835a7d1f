"""The golden table (tests/golden/verdicts.csv), line by line through the pure domain, and what it covers.

The table is what a statistics or 督查 official reviews: each row gives the figures sent, in order, and the
status, severity and exact sentence expected. Figures are illustrative unless the row says otherwise.
"""

from __future__ import annotations

import pytest

from shared.catalogue import load_catalogue
from tests.golden.replay import load_cases, run

CAT = load_catalogue()
CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_domain_gives_the_tables_verdict_and_sentence(case) -> None:
    got = run(CAT, case.target, case.figures)
    assert (got.previous, got.status, got.severity) == (case.previous, case.status, case.severity), case.id
    assert got.message == case.message, f"{case.id}:\n got  {got.message}\n want {case.message}"


def test_the_table_covers_what_issue_10_asks_for() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)
    targets = [CAT.targets[c.target] for c in CASES]
    assert {t.kind.value for t in targets} >= {"growth_rate", "cumulative_total", "count", "share", "level", "cap",
                                              "relational"}
    assert {t.accrual.value for t in targets if t.accrual} == {"new_this_year", "stock", "net_added"}
    assert {t.schedule.value for t in targets if t.schedule} == {"linear", "previous_year_path", "batch", "year_end",
                                                                 "direct"}
    assert {t.strength.value for t in targets} == {"binding", "expected"}
    last = [c.figures[-1] for c in CASES]
    periods = {f.period for f in last}
    assert "2024-M02" in periods  # the combined 1—2月 release
    assert {p[5] for p in periods if len(p) > 4} >= {"M", "Q", "S"} and "2024" in periods  # start, middle, end
    assert {f.status.value for c in CASES for f in c.figures} == {"provisional", "estimated", "final"}
    statuses = {c.status for c in CASES}
    assert statuses >= {"超前", "符合进度", "滞后", "严重滞后", "接近上限", "突破上限", "已完成", "未完成", "暂不评估"}
    assert any("修订为" in c.message for c in CASES) and any("数值未作调整" in c.message for c in CASES)
    assert sum("为防止在界限附近反复变动" in c.message for c in CASES) >= 4  # hysteresis, stated
    assert any("扣除价格因素" in c.message for c in CASES)  # relational, real against real
    assert {"一般预警", "严重预警", "正常"} == {c.severity for c in CASES}


def test_no_sentence_contradicts_its_own_status() -> None:
    for c in CASES:
        if not c.message:
            continue
        said = c.message.split("状态", 1)[1]
        assert said.startswith(("：" + c.status, "由“")), c.id
        assert f"“{c.status}”" in said or said.startswith("：" + c.status), c.id
        assert "时序进度" not in c.message and "累计同比" not in c.message, c.id  # one term: 序时进度
