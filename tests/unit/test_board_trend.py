"""The board's trend chart (widgets.sparkline via api/trend.py), its 年底预判 cell and the sortable summaries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from services.evaluator.api.board import render_board
from services.evaluator.api.read_model import BoardEntry, FilterError
from services.evaluator.api.trend import chart_series, check_sort, outlook_cell, trend_chart, trends_of
from services.evaluator.api.widgets import sparkline
from services.evaluator.domain.outlook import TrendPoint
from services.evaluator.ports import EvaluationRow
from shared.catalogue import load_catalogue
from shared.periods import parse_period as P

CAT = load_catalogue()
JOBS, GDP = CAT.targets["urban_new_jobs"], CAT.targets["gdp_growth"]


def _circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def test_the_points_path_and_projection_are_where_the_values_say() -> None:
    # 132×40, margin 3: x = 3 + month/12·126; values 0..100 padded by 10% to -10..110: y = 3 + (110 - v)/120·34.
    svg = sparkline([(3, 20), (6, 50)], uid="t", title="标题", desc="说明", path=[(0, 0), (12, 100)],
                    projection=(12, 80))
    assert _circles(svg) == [(34.5, 28.5), (66.0, 20.0)]
    assert 'class="spark-line" points="34.5,28.5 66.0,20.0"' in svg
    assert 'class="spark-path" points="3.0,34.2 129.0,5.8"' in svg
    assert 'class="spark-projection" x1="66.0" y1="20.0" x2="129.0" y2="11.5"' in svg
    assert '<title id="t-t">标题</title><desc id="t-d">说明</desc>' in svg and 'role="img"' in svg


def test_no_points_give_a_note_and_one_point_a_dot_without_a_line() -> None:
    none = sparkline([], uid="t", title="城镇新增就业全年趋势", desc="")
    assert "<svg" not in none and "城镇新增就业全年趋势：暂无数据" in none
    one = sparkline([(6, 5.0)], uid="t", title="x", desc="y")
    assert _circles(one) == [(66.0, 20.0)] and "spark-line" not in one  # a flat series is centred


def test_a_completion_target_is_charted_as_completion_against_the_expected_progress() -> None:
    pts = [TrendPoint(P("2024-M02"), progress=0.2, expected_progress=2 / 12),
           TrendPoint(P("2024-M04"), progress=0.3, expected_progress=4 / 12)]
    series, path, projection = chart_series(JOBS, pts)
    assert series == [(2.0, 20.0), (4.0, 30.0)]
    assert [(x, round(y, 2)) for x, y in path] == [(0.0, 0.0), (2.0, 16.67), (4.0, 33.33), (12.0, 100.0)]
    assert projection == (12.0, 90.0)  # 30% done at 33.3% of the way: 90% by December
    svg = trend_chart(JOBS, pts)
    assert "<title id=\"trend-urban_new_jobs-t\">城镇新增就业全年趋势</title>" in svg
    assert "2月完成率20%；4月完成率30%；按当前进度年底预计90%。实线为完成率，点线为序时进度" in svg


def test_a_rate_is_charted_against_its_target_carried_to_december() -> None:
    pts = [TrendPoint(P("2024-Q1"), actual=4.9, expected=5.5), TrendPoint(P("2024-Q2"), actual=5.2, expected=5.5)]
    assert chart_series(GDP, pts) == ([(3.0, 4.9), (6.0, 5.2)], [(3.0, 5.5), (6.0, 5.5), (12.0, 5.5)], (12.0, 5.2))
    assert chart_series(GDP, []) == ([], [], None)
    assert "暂无数据" in trend_chart(GDP, [])


def test_the_outlook_cell_says_the_verdict_with_its_basis_or_that_there_are_too_few_releases() -> None:
    few = outlook_cell(JOBS, [TrendPoint(P("2024-M02"), progress=0.2, expected_progress=2 / 12),
                              TrendPoint(P("2024-M03"), progress=0.3, expected_progress=3 / 12)])
    assert 'data-verdict="too_few"' in few and ">数据不足<" in few and "已有2期数据，不足3期" in few
    good = [TrendPoint(P(f"2024-M0{m}"), progress=m / 12 * 1.3, expected_progress=m / 12) for m in (2, 3, 4)]
    cell = outlook_cell(JOBS, good)
    assert 'data-verdict="likely"' in cell and ">预计可完成<" in cell
    assert 'title="最新读数全年预计完成率130%，达标界限100%' in cell and "剩余8期" in cell
    bad = [TrendPoint(P(f"2024-M0{m}"), progress=m / 12 * 0.6, expected_progress=m / 12) for m in (2, 3, 4)]
    assert ">难以完成<" in outlook_cell(JOBS, bad)
    milestone = next(t for t in CAT.targets.values() if t.kind.value == "milestone")
    assert "不作预判" in outlook_cell(milestone, good)


def _row(target_id: str, period: str, at: int, actual: float, rid: str) -> EvaluationRow:
    return EvaluationRow(rid, target_id, period, "on_track", "ok", actual, 5.5, None, None, None, None, None, None,
                         None, None, None, False, True, "", datetime(2024, 5, 1, tzinfo=UTC) + timedelta(hours=at))


def test_trends_group_per_target_oldest_first_so_a_revision_replaces_its_period() -> None:
    rows = [_row("gdp_growth", "2024-Q1", 5, 5.1, "c"), _row("gdp_growth", "2024-Q1", 1, 4.9, "a"),
            _row("gdp_growth", "2024-Q2", 3, 5.0, "b"), _row("jobs", "2024-M04", 2, 3.5, "d")]
    trends = trends_of(rows)
    assert [p.actual for p in trends["gdp_growth"]] == [4.9, 5.0, 5.1] and len(trends["jobs"]) == 1
    assert chart_series(GDP, trends["gdp_growth"])[0] == [(3.0, 5.1), (6.0, 5.0)]


def _entries() -> list[BoardEntry]:
    t = CAT.targets
    in_1 = [x for x in t.values() if x.section == "1"][:3]
    return [BoardEntry(t["gdp_growth"], "2024-Q1", "on_track", "ok"),
            *(BoardEntry(x, "2024-M04", "behind", "warning") for x in in_1),
            BoardEntry(in_1[0], "2024-M04", "ahead", "ok")]


def _section_order(html: str) -> list[str]:
    table = re.search(r'<table class="summary-table" id="summary-sections">.*?</table>', html)
    assert table
    return re.findall(r'<th scope="row">([^<]+)</th>', table.group(0))


def test_the_summaries_sort_on_the_server_and_mark_the_sorted_header() -> None:
    shown = _entries()
    default = render_board(shown, CAT, None, None)
    assert _section_order(default)[:2] == ["主要预期目标", "（一）聚力稳定经济运行"]
    assert '<th scope="col" aria-sort="ascending"><a href="/board?sort=order#summary-sections">板块↑</a>' in default
    by_behind = render_board(shown, CAT, "fgw", None, sort="behind")
    assert _section_order(by_behind)[0] == "（一）聚力稳定经济运行"
    assert ('<th scope="col" aria-sort="descending"><a href="/board?department=fgw&amp;sort=behind'
            '#summary-sections">滞后↓</a>') in by_behind
    assert '<input type="hidden" name="sort" value="behind">' in by_behind  # the filter form keeps the order
    assert 'name="sort"' not in default
    assert by_behind.count('aria-sort=') == 2  # one marked header per summary (sections, departments)
    row = re.search(r'<tr><th scope="row">（一）聚力稳定经济运行</th>(.*?)</tr>', by_behind)
    assert row and re.findall(r"<td>(\d+)</td>", row.group(1)) == ["1", "0", "3", "0", "3"]


def test_an_unknown_sort_is_refused_naming_the_parameter_in_chinese() -> None:
    assert check_sort(None) == "order" and check_sort("far_behind") == "far_behind"
    with pytest.raises(FilterError) as err:
        check_sort("lagging")
    assert err.value.field == "sort" and "参数 sort 须为以下之一" in str(err.value) and "滞后" in str(err.value)
