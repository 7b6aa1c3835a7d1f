"""The bureaus' upload page in a real headless Chromium, against a running ingest: a 统计局 clerk enters the
key once, downloads the template, fills it in Excel (here: openpyxl, as Excel saves it), pre-checks it, sees
every problem by row and column, corrects it, sees each row's outcome, and stores it, once.

Each stage is photographed (into ``SCREENSHOT_DIR`` when set: ``scripts/screenshots.sh``); a photograph that
is blank, or whose status line is not drawn in its colour, fails."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from devstack.broker import TansuBroker, free_port
from devstack.stack import ENV_PREFIX, ServiceProcess
from tests.e2e.cdp import Page, chromium_page
from tests.e2e.png_pixels import colours_in, drawn_share

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ADMIN = "upload-e2e-admin-token"
STATUS_TEXT = "document.getElementById('status').textContent"
STATUS_BUSY = "document.getElementById('status').textContent.startsWith('正在')"


@pytest.fixture
def ingest(tmp_path: Path, db_factory, broker: TansuBroker, topic_prefix: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not any(k.startswith(p) for p in ENV_PREFIX.values())}
    env.update({"INGEST_DATABASE_URL": db_factory(), "INGEST_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
                "INGEST_PORT": str(port), "INGEST_TOPIC_PREFIX": topic_prefix, "INGEST_ADMIN_TOKEN": ADMIN})
    (tmp_path / "logs").mkdir()
    p = ServiceProcess("ingest", port, env, tmp_path / "logs" / "ingest.log")
    p.start()
    try:
        p.wait_ready(60)
        yield p.url
    finally:
        p.stop()


def _key(ingest: str) -> str:
    r = httpx.post(f"{ingest}/admin/keys", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10, json={
        "organisation": "江阴市统计局", "indicators": ["urban_new_jobs", "retail_sales"], "regions": ["jiangyin"]})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def _stored(ingest: str, key: str) -> list[tuple[object, ...]]:
    """Every stored vintage of the key's two indicators in 江阴."""
    out = []
    for indicator in ("retail_sales", "urban_new_jobs"):
        r = httpx.get(f"{ingest}/v1/observations", params={"indicator": indicator, "region": "jiangyin"},
                      headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert r.status_code == 200, r.text
        out += [(o["indicator"], o["period"], o["measure"], o["value"], o["vintage"]) for o in r.json()]
    return out


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else tmp_path / "shots"


def _table(page: Page, section: str) -> list[list[str]]:
    return page.evaluate(f"Array.from(document.querySelectorAll('#{section} tbody tr')).map(tr => "
                         "Array.from(tr.cells).map(td => td.textContent))")  # type: ignore[no-any-return]


def _download_template(page: Page, into: Path) -> Path:
    into.mkdir()
    page.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(into), eventsEnabled=True)
    page.click("#template-xlsx")
    done = into / "数据报送模板.xlsx"
    page.wait_for("new Promise(r => setTimeout(() => r(true), 50))")  # let the download start
    for _ in range(600):
        if done.exists() and not list(into.glob("*.crdownload")):
            return done
        page.evaluate("new Promise(r => setTimeout(() => r(true), 50))")
    raise AssertionError(f"the template was not downloaded: {list(into.iterdir())}")


def _photographed(page: Page, out: Path, colour: tuple[int, int, int]) -> None:
    """The page drawn, and the status line drawn in its colour where it stands."""
    page.screenshot(out, full_page=True)  # the tables below the fold too
    assert drawn_share(out) >= 0.3, f"{out}: the page is hardly drawn"
    left, top, w, h, visibility, display = page.boxes(["#status"])["#status"]
    assert w > 100 and h > 10 and visibility == "visible" and display != "none"
    assert colour in colours_in(out, (left, top, w, h)), f"{out}: the status line is not in #{bytes(colour).hex()}"


def test_a_bureau_fills_the_template_prechecks_corrects_and_stores_it_in_the_browser(
        ingest: str, tmp_path: Path) -> None:
    key = _key(ingest)
    shots = _shots(tmp_path)
    with chromium_page(CHROMIUM, tmp_path / "profile", height=1000) as page:
        page.open(f"{ingest}/upload")
        assert page.evaluate("document.title") == "统计数据报送 · 上传文件"
        assert page.evaluate("document.getElementById('check').disabled") is True  # no key yet
        page.type("#key", key)
        page.click("#key-form button")
        who = page.wait_for("document.getElementById('who').textContent")
        assert who.startswith("当前单位：江阴市统计局（密钥 wxk_") and "可报送2项指标、1个地区" in who, who
        # The key is in this tab's session only: a reload keeps it, nothing is stored as a cookie.
        page.open(f"{ingest}/upload")
        assert page.wait_for("document.getElementById('who').textContent").startswith("当前单位：江阴市统计局")
        assert page.evaluate("document.cookie") == ""
        assert page.evaluate("sessionStorage.length") == 1

        # The template as downloaded, uploaded unfilled: the example row's empty 数值 is refused by row and
        # column, and nothing is stored.
        template = _download_template(page, tmp_path / "downloads")
        page.set_files("#file", [template])
        assert page.evaluate("document.getElementById('file-name').textContent") == "数据报送模板.xlsx"
        page.click("#check")
        status = page.wait_for(f"{STATUS_TEXT}.startsWith('预检未通过') && {STATUS_TEXT}")
        assert "文件中的数据均未保存" in status, status
        problems = _table(page, "problems")
        assert problems and problems[0][0] == "2" and problems[0][1] == "数值", problems
        assert problems[0][2].startswith("第2行 E列："), problems
        assert page.evaluate("document.getElementById('store').disabled") is True
        _photographed(page, shots / "upload-problems.png", (0xA4, 0x0E, 0x26))

        # Filled as a clerk would in Excel: the example row completed, a second row, a 合计 row at the end.
        wb = openpyxl.load_workbook(template)
        sheet = wb["数据"]
        sheet["A2"], sheet["B2"], sheet["C2"], sheet["D2"], sheet["E2"], sheet["F2"] = (
            "城镇新增就业", "江阴市", "2024年1—6月", "累计", 1.2, "万人")
        sheet.append(["社会消费品零售总额", "江阴", "2024年上半年", "累计增速", 6.1, "%", "初步数"])
        sheet.append(["合计", None, None, None, None, None])
        filled = tmp_path / "江阴2024年6月.xlsx"
        buf = io.BytesIO()
        wb.save(buf)
        filled.write_bytes(buf.getvalue())
        page.set_files("#file", [filled])
        assert page.evaluate(STATUS_TEXT) == ""  # a new file clears the last answer
        page.click("#check")
        status = page.wait_for(f"!{STATUS_BUSY} && {STATUS_TEXT}")
        assert status.startswith("预检通过"), status
        assert "共2行，将新增2条，修订0条" in status, status
        rows = _table(page, "rows")
        assert rows == [["2", "城镇新增就业人数 · 江阴市 · 2024年1—6月 · 累计值", "1.2", "万人", "将新增"],
                        ["3", "社会消费品零售总额 · 江阴市 · 2024年上半年 · 累计增速", "6.1", "%", "将新增"]], rows
        assert "第4行未读取" in page.evaluate("document.getElementById('notes').textContent")
        assert _stored(ingest, key) == []  # a pre-check stores nothing
        _photographed(page, shots / "upload-checked.png", (0x05, 0x50, 0xAE))

        page.click("#store")
        status = page.wait_for(f"{STATUS_TEXT}.startsWith('已保存') && {STATUS_TEXT}")
        assert "共2行，新增2条" in status, status
        assert [r[4] for r in _table(page, "rows")] == ["已新增", "已新增"]
        assert page.evaluate("document.getElementById('store').disabled") is True  # nothing to store twice
        _photographed(page, shots / "upload-stored.png", (0x11, 0x63, 0x29))
        assert not [m for m in page.console if "Content Security Policy" in m], page.console

    assert _stored(ingest, key) == [("retail_sales", "2024-S1", "cumulative_yoy_pct", 6.1, 1),
                                    ("urban_new_jobs", "2024-M06", "cumulative_level", 1.2, 1)]


def test_the_upload_page_runs_only_its_own_script_and_talks_only_to_ingest(ingest: str) -> None:
    r = httpx.get(f"{ingest}/upload", timeout=10)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and csp["connect-src"] == "'self'" and csp["form-action"] == "'none'"
    assert csp["script-src"].startswith("'sha256-") and "unsafe" not in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and "set-cookie" not in r.headers
