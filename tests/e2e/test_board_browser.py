"""The HTML board and the acknowledgement page in a real headless Chromium, against the running system:
figures pushed to ingest and a department's status report show up as the board a person without Grafana
would read, and the department's alert opens as a Chinese page to acknowledge it.

Each page is also photographed: into ``SCREENSHOT_DIR`` when it is set (``scripts/screenshots.sh`` sets it
to ``docs/screenshots``), else into the test's temporary directory; a photograph that is blank fails."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from devstack.broker import TansuBroker, free_port
from devstack.stack import SERVICES, Stack
from tests.e2e.cdp import boxes_and_screenshot
from tests.e2e.png_pixels import colours_in, drawn_share, has_colour, size_of

pytestmark = pytest.mark.e2e
TOKEN = "sthjj-e2e-token"
READER = "ops-e2e-token"
LINK_SECRET = "e2e-link-secret-0123456789"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def stack(tmp_path: Path, db_factory, broker: TansuBroker, topic_prefix: str):
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    alerts_port = free_port()
    s = Stack(
        data_dir=tmp_path / "stack", broker=broker, topic_prefix=topic_prefix, ports={"alerts": alerts_port},
        database_urls={name: db_factory() for name in SERVICES},
        # Consumer groups of their own: the session broker is shared with the other end-to-end tests.
        extra_env={"evaluator": {"EVALUATOR_STATUS_REPORT_TOKENS": f'{{"sthjj": "{digest}"}}',
                                 "EVALUATOR_CONSUMER_GROUP": f"evaluator-{topic_prefix}",
                                 # The department pages show the alerts service's open alerts.
                                 "EVALUATOR_ALERTS_URL": f"http://127.0.0.1:{alerts_port}",
                                 "EVALUATOR_ALERTS_TOKEN": READER},
                   "alerts": {"ALERTS_WEBHOOK_SECRET": "e2e-secret",
                              "ALERTS_CONSUMER_GROUP": f"alerts-{topic_prefix}",
                              "ALERTS_PUBLIC_URL": "http://127.0.0.1", "ALERTS_LINK_SECRET": LINK_SECRET,
                              "ALERTS_API_TOKENS": json.dumps({"ops": {
                                  "sha256": hashlib.sha256(READER.encode()).hexdigest(), "scopes": ["read"]}})}},
    )
    try:
        s.start()
        yield s
    finally:
        s.stop()


class Rows(HTMLParser):
    """Collects the board's target rows: data attributes, the text of each cell, and the progress bars' attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, object]] = {}
        self.section: str | None = None
        self._row: dict[str, object] | None = None
        self._cell: list[str] | None = None
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.section = (a.get("id") or "").removeprefix("section-")
        elif tag == "tr" and a.get("data-target"):
            self._row = {"status": a.get("data-status"), "section": self.section, "cells": [], "bars": []}
            self.rows[str(a["data-target"])] = self._row
        elif tag == "td" and self._row is not None:
            self._cell = []
        elif a.get("role") == "progressbar" and self._row is not None:
            self._row["bars"].append(a)  # type: ignore[attr-defined]

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())  # type: ignore[union-attr]
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _dump_dom(url: str, profile: Path) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
           "--dump-dom", url]
    done = subprocess.run(cmd, capture_output=True, timeout=90, check=True)
    return done.stdout.decode()


def _photograph(url: str, profile: Path, out: Path, height: int = 1800) -> Path:
    """A full-width screenshot of the page as Chromium draws it, fonts and all."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={profile}", f"--window-size=1280,{height}", f"--screenshot={out}", url]
    subprocess.run(cmd, capture_output=True, timeout=90, check=True)
    return out


def _assert_drawn(png: Path, at_least: float, colours: tuple[tuple[int, int, int], ...] = ()) -> None:
    """The photograph shows the page drawn and styled: enough rows with something on them (a page whose
    sections are hidden draws about 2% of its rows) and the style sheet's colours where badges are."""
    share = drawn_share(png)
    assert share >= at_least, f"{png}: only {share:.0%} of its rows are drawn (at least {at_least:.0%} expected)"
    for colour in colours:
        assert has_colour(png, colour), f"{png}: no #{bytes(colour).hex()} (is the style sheet applied?)"


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else tmp_path / "shots"


def _wait_for_status(evaluator: str, target_id: str, status: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = httpx.get(f"{evaluator}/v1/targets/{target_id}", timeout=5).json().get("status")
        if last == status:
            return
        time.sleep(0.1)
    raise AssertionError(f"{target_id} is {last!r}, not {status!r}, after {timeout_s}s")


def test_the_board_shows_which_targets_are_behind_and_whose_they_are(stack: Stack, tmp_path: Path) -> None:
    ingest, evaluator = stack.url("ingest"), stack.url("evaluator")
    auth = {"Authorization": f"Bearer {stack.issue_ingest_key('市统计局')}"}
    for obs in (
        {"indicator": "gdp", "period": "2024-Q1", "measure": "cumulative_yoy_pct", "value": 4.9, "unit": "%"},
        {"indicator": "urban_new_jobs", "period": "2024-M04", "measure": "cumulative_level", "value": 35000,
         "unit": "人"},  # ingest converts 人 to the indicator's 万人
        # Three releases of one rate: enough for a trend and a 年底预判.
        *({"indicator": "retail_sales", "period": f"2024-M0{m}", "measure": "cumulative_yoy_pct", "value": v,
           "unit": "%"} for m, v in ((2, 6.6), (3, 6.9), (4, 6.8))),
    ):
        r = httpx.post(f"{ingest}/v1/observations", json={"region": "wuxi", "status": "provisional", **obs},
                       headers=auth, timeout=10)
        assert r.status_code == 201, r.text
    r = httpx.post(f"{evaluator}/v1/targets/binding_environment_targets/status-reports", timeout=10,
                   headers={"Authorization": f"Bearer {TOKEN}"},
                   json={"status": "at_risk", "note": "PM2.5浓度同比上升"})
    assert r.status_code == 201, r.text
    _wait_for_status(evaluator, "gdp_growth", "behind")
    _wait_for_status(evaluator, "urban_new_jobs", "behind")
    _wait_for_status(evaluator, "retail_sales_growth", "on_track")
    deadline = time.monotonic() + 60
    while len(httpx.get(f"{evaluator}/v1/targets/retail_sales_growth/evaluations", timeout=5).json()) < 3:
        assert time.monotonic() < deadline, "retail_sales_growth: not three evaluations"
        time.sleep(0.1)

    dom = _dump_dom(f"{evaluator}/board", tmp_path / "chromium-profile")
    page = Rows()
    page.feed(dom)
    assert "<title>无锡市2024年政府工作报告目标进展看板</title>" in dom
    text = "".join(page.texts)
    assert "共152项目标" in text and "需关注3项" in text

    gdp = page.rows["gdp_growth"]
    assert gdp["section"] == "headline" and gdp["status"] == "behind"
    name, period, status, figures, trend, outlook, message, lead, co = gdp["cells"]  # type: ignore[misc]
    assert name.startswith("地区生产总值增长") and period == "2024年一季度" and status == "滞后"
    # A growth rate is read as figure against target: the words, no bar.
    assert figures == "实际增速4.9%；目标增速5.5%左右" and gdp["bars"] == []
    assert "低于目标区间下限（5%）0.1个百分点" in message and lead == "市发展改革委" and co == "市统计局"
    # One release: a chart of one point, and no guess at the year's end.
    assert trend == ("地区生产总值增长全年趋势3月实际值4.9%；目标值5.5%；按当前进度年底预计4.9%。"
                     "实线为实际值，点线为目标值，虚线为年底预计。")
    assert outlook.startswith("数据不足") and "已有1期数据，不足3期" in outlook

    jobs = page.rows["urban_new_jobs"]
    assert jobs["status"] == "behind" and jobs["cells"][1] == "2024年1—4月"  # type: ignore[index]
    assert "剩余8个月月均需完成1.19万人" in jobs["cells"][6]  # type: ignore[index]
    # A count is read as 完成率 against 序时进度: a progressbar with numeric values and a Chinese label.
    (bar,) = jobs["bars"]  # type: ignore[misc]
    now, lo, hi = (float(bar[k]) for k in ("aria-valuenow", "aria-valuemin", "aria-valuemax"))
    assert (now, lo, hi) == (round(3.5 / 13 * 100, 2), 0, 100), bar  # 3.5万 of 13万人, in %
    assert bar["aria-label"] == "城镇新增就业完成率" and bar["aria-valuetext"] == "完成率26.9%，序时进度33.3%"
    assert jobs["cells"][3].startswith("累计完成3.5万人，完成率")  # type: ignore[index]
    bars = [b for row in page.rows.values() for b in row["bars"]]  # type: ignore[attr-defined]
    assert bars and all(re.fullmatch(r"-?\d+(\.\d+)?", b["aria-valuenow"]) for b in bars)
    env = page.rows["binding_environment_targets"]
    assert env["status"] == "at_risk" and env["cells"][2] == "存在风险" and env["cells"][7] == "市生态环境局"  # type: ignore[index]
    retail = page.rows["retail_sales_growth"]["cells"]
    assert retail[2] == "符合进度"  # type: ignore[index]
    assert "2月实际值6.6%；3月实际值6.9%；4月实际值6.8%" in retail[4]  # type: ignore[index]
    assert retail[5].startswith("预计可完成最新读数6.8%") and "剩余8期" in retail[5]  # type: ignore[index]
    assert page.rows["binding_environment_targets"]["cells"][5] == "不作预判"  # type: ignore[index]
    assert page.rows["new_little_giants"]["cells"][2] == "暂无数据"  # type: ignore[index]
    # Within a section the targets needing attention come first, and the section names their owners.
    headline = [t for t, row in page.rows.items() if row["section"] == "headline"]
    assert headline[:2] == ["gdp_growth", "urban_new_jobs"] or headline[:2] == ["urban_new_jobs", "gdp_growth"]
    assert re.search(r"共11项，需关注3项（[^）]*市发展改革委[^）]*）", text)

    # The summaries sort on the server: by 滞后, the 主要预期目标 (two behind) come first, the header marked.
    dom = _dump_dom(f"{evaluator}/board?sort=behind", tmp_path / "chromium-profile-s")
    table = re.search(r'<table class="summary-table" id="summary-sections">.*?</table>', dom, re.S)
    assert table and re.search(r'aria-sort="descending"><a href="[^"]*sort=behind[^"]*">滞后↓', table.group(0))
    assert re.findall(r'<th scope="row">([^<]+)</th>', table.group(0))[0] == "主要预期目标"
    bad = httpx.get(f"{evaluator}/board?sort=lagging", timeout=10)
    assert bad.status_code == 422 and "参数 sort 须为以下之一" in json.dumps(bad.json(), ensure_ascii=False), bad.text
    bad = httpx.get(f"{evaluator}/board?sort=lagging", timeout=10, headers={"Accept": "text/html"})
    assert bad.status_code == 422 and "参数 sort 须为以下之一" in bad.text and "滞后" in bad.text, bad.text

    # The same page filtered to one department, as its official would bookmark it.
    dom = _dump_dom(f"{evaluator}/board?department=sthjj", tmp_path / "chromium-profile-2")
    mine = Rows()
    mine.feed(dom)
    assert "binding_environment_targets" in mine.rows and "gdp_growth" not in mine.rows

    # 滞后 and 存在风险 lamps (and the behind bar) in #d4a72c, 符合进度 in #2da44e (widgets.py's style sheet).
    yellow, green = (0xD4, 0xA7, 0x2C), (0x2D, 0xA4, 0x4E)
    _assert_drawn(_photograph(f"{evaluator}/board", tmp_path / "chromium-profile-3", _shots(tmp_path) / "board.png",
                              height=2400), 0.6, colours=(yellow, green))
    _assert_drawn(_photograph(f"{evaluator}/board?department=sthjj", tmp_path / "chromium-profile-4",
                              _shots(tmp_path) / "board-sthjj.png", height=900), 0.35, colours=(yellow,))

    # The retail chart and its verdict are drawn on screen: boxes of a real size, pixels other than the
    # background inside them, the line in the lamp's green (符合进度) inside the chart's box.
    chart, verdict = ('tr[data-target="retail_sales_growth"] svg.spark',
                      'tr[data-target="retail_sales_growth"] .outlook')
    shot = _shots(tmp_path) / "board-trend.png"
    boxes = boxes_and_screenshot(CHROMIUM, f"{evaluator}/board#section-headline", tmp_path / "chromium-profile-t",
                                 [chart, verdict], shot, height=1600)
    shot_w, shot_h = size_of(shot)
    for sel in (chart, verdict):
        left, top, w, h, visibility, display = boxes[sel]
        assert w >= 10 and h >= 10 and visibility == "visible" and display != "none", (sel, boxes[sel])
        assert left >= 0 and top >= 0 and left + w <= shot_w and top + h <= shot_h, (sel, boxes[sel], shot_w, shot_h)
        assert len(colours_in(shot, (left, top, w, h))) > 2, (sel, "nothing drawn in its box")
    assert green in colours_in(shot, tuple(boxes[chart][:4])), "the chart's line is not drawn"
    assert (0x11, 0x63, 0x29) in colours_in(shot, tuple(boxes[verdict][:4])), "预计可完成 is not in green"

    # The department's acknowledgement page, opened from the signed link its notification carries.
    alerts = stack.url("alerts")
    deadline = time.monotonic() + 60
    while not (found := [a for a in httpx.get(f"{alerts}/v1/alerts", timeout=5, headers={
            "Authorization": f"Bearer {READER}"}).json() if a["target_id"] == "gdp_growth"]):
        assert time.monotonic() < deadline, "no alert for gdp_growth"
        time.sleep(0.2)
    from services.alerts.links import AckLinks

    link = AckLinks(LINK_SECRET.encode(), alerts, 3600).url(found[0]["id"], "fgw", time.time())
    assert link is not None
    page_html = _dump_dom(link, tmp_path / "chromium-profile-5")
    assert "致：市发展改革委" in page_html and "地区生产总值" in page_html, page_html
    _assert_drawn(_photograph(link, tmp_path / "chromium-profile-6", _shots(tmp_path) / "ack-page.png",
                              height=900), 0.3)

    # The department acknowledges through the link; its page then shows the alert, who acknowledged it and
    # the measures, beside its targets.
    r = httpx.post(link, timeout=10, json={"by": "张伟（综合处处长）", "explanation": "一季度工业投资节奏偏慢",
                                           "measures": "二季度推动重大项目集中开工"})
    assert r.status_code == 200 and "预警已确认" in r.text, r.text
    page_html = _dump_dom(f"{evaluator}/board/departments/fgw", tmp_path / "chromium-profile-7")
    assert "市发展改革委 · 目标任务推进情况" in page_html, page_html
    assert f'data-alert="{found[0]["id"]}"' in page_html and "二季度推动重大项目集中开工" in page_html
    assert "张伟（综合处处长）" in page_html and 'data-target="gdp_growth"' in page_html
    _assert_drawn(_photograph(f"{evaluator}/board/departments/fgw", tmp_path / "chromium-profile-8",
                              _shots(tmp_path) / "department-fgw.png", height=2600), 0.3,
                  colours=((0xBF, 0x87, 0x00), (0xFF, 0xF8, 0xC5)))  # a 滞后 row's rule and its badge

    # The 督查室's monthly 通报 for April: the targets needing attention with their owners, laid out for A4.
    report = _dump_dom(f"{evaluator}/board/report?period=2024-M04", tmp_path / "chromium-profile-9")
    assert "地区生产总值" in report and "城镇新增就业" in report and "市发展改革委" in report, report
    assert "下载Excel表格" in report
    assert "确认预警：一季度工业投资节奏偏慢；整改措施：二季度推动重大项目集中开工" in report  # the acknowledgement
    _assert_drawn(_photograph(f"{evaluator}/board/report?period=2024-M04", tmp_path / "chromium-profile-10",
                              _shots(tmp_path) / "report-2024-M04.png", height=800), 0.3,
                  colours=((0xB3, 0x1D, 0x28),))  # the title in the 通报's red
