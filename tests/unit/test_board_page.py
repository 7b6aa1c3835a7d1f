"""The board page's rows (services/evaluator/api/board.py render_board): a lamp per target, a bar for 完成率."""

from __future__ import annotations

import re

from services.evaluator.api.board import _CSS, render_board
from services.evaluator.api.read_model import BoardEntry
from shared.catalogue import load_catalogue

CAT = load_catalogue()


def _row(html: str, target_id: str) -> str:
    m = re.search(rf'<tr [^>]*data-target="{target_id}".*?</tr>', html)
    assert m, f"no row for {target_id}"
    return m.group(0)


def _page() -> str:
    t = CAT.targets
    entries = [
        BoardEntry(t["urban_new_jobs"], "2024-M04", "behind", "warning", message_zh="…", actual=3.5, expected=4.333333,
                   progress=0.269231, expected_progress=0.333333),
        BoardEntry(t["gdp_growth"], "2024-Q1", "behind", "warning", message_zh="…", actual=4.9, expected=5.5),
        BoardEntry(t["retail_sales_growth"], "2024-M02", "on_track", "ok", message_zh="…", actual=6.8, expected=6.5),
        BoardEntry(t["new_little_giants"]),
    ]
    return render_board(entries, CAT, None, None)


def test_a_completion_target_gets_a_bar_of_its_completion_against_the_expected_progress() -> None:
    row = _row(_page(), "urban_new_jobs")
    assert row.count('role="progressbar"') == 1
    assert 'aria-valuenow="26.92"' in row and 'aria-valuemin="0"' in row and 'aria-valuemax="100"' in row
    assert 'aria-label="城镇新增就业完成率"' in row and 'aria-valuetext="完成率26.9%，序时进度33.3%"' in row
    assert 'class="pbar-mark" style="left:33.33%"' in row and "pbar-yellow" in row
    assert "累计完成3.5万人，完成率26.9%，序时进度33.3%" in row
    assert 'data-lamp="yellow"' in row and "滞后</span>" in row


def test_a_growth_rate_gets_its_lamp_and_figures_and_no_bar() -> None:
    page = _page()
    gdp, retail = _row(page, "gdp_growth"), _row(page, "retail_sales_growth")
    assert "progressbar" not in gdp and "实际增速4.9%；目标增速5.5%左右" in gdp and 'data-lamp="yellow"' in gdp
    assert "progressbar" not in retail and 'data-lamp="green"' in retail and "符合进度</span>" in retail


def test_a_target_without_data_says_so_beside_a_grey_lamp() -> None:
    row = _row(_page(), "new_little_giants")
    assert 'data-lamp="grey"' in row and "暂无数据</span>" in row and "progressbar" not in row
    assert row.count("<td") == 9  # 目标 期别 状态 进度 全年趋势 年底预判 最新情况 牵头 配合


def test_the_style_sheet_rankings_reuses_keeps_its_badges_and_has_the_widgets() -> None:
    assert ".badge{" in _CSS and ".pbar{" in _CSS and ".lamp{" in _CSS
    assert "<th>状态</th><th>进度</th><th>全年趋势</th><th>年底预判</th><th>最新情况</th>" in _page()
