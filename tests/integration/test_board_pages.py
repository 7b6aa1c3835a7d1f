"""The department page and the monthly 督查通报 through the real evaluator app on a real database: figures go
through the evaluator's handler, the pages read what it stored; the alerts come from a real HTTP server that
answers as the alerts service's ``GET /v1/alerts`` does."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from services.evaluator.config import EvaluatorSettings
from services.evaluator.handlers import ObservationHandler
from services.evaluator.main import create_app
from shared.catalogue import load_catalogues
from shared.catalogue.loader import DEFAULT_DIR
from shared.clock import FrozenClock
from shared.db import run_migrations
from tests.integration.evaluator_support import envelope, observation

MIGRATIONS = Path("services/evaluator/migrations")
# The targets the city's 发展改革委 leads or co-leads in the 2024 catalogue, read from the catalogue file itself.
FGW_TARGETS = sorted(t.id for t in load_catalogues(DEFAULT_DIR).primary.targets.values()
                     if "fgw" in (t.lead_department, *t.co_departments))


def _app(database_url: str, **settings: Any) -> TestClient:
    run_migrations(database_url, MIGRATIONS)
    config = EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", **settings)
    catalogues = load_catalogues(DEFAULT_DIR)
    app = create_app(config, catalogues=catalogues, clock=FrozenClock(datetime(2024, 7, 20, 2, 0, tzinfo=UTC)))
    handler = ObservationHandler(catalogues, app.state.runtime.database.outbox, app.state.runtime.clock)
    # GDP up 4.6% in the first half against 5.5%左右: behind (滞后), a target the 通报 lists.
    data = observation("gdp", "2024-Q2", "cumulative_yoy_pct", 4.6)
    with app.state.runtime.database.engine.begin() as conn:
        handler(conn, envelope(data), data)
    return TestClient(app)


@pytest.fixture
def make_client(database_url: str) -> Iterator[Any]:
    made: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        c = _app(database_url, **settings)
        made.append(c)
        return c

    yield make
    for c in made:
        c.app.state.runtime.database.dispose()  # type: ignore[attr-defined]


def _row(html: str, target: str) -> str:
    start = html.index(f'data-target="{target}"')
    return html[start:html.index("</tr>", start)]


def test_the_report_lists_the_lagging_target_with_its_owner(make_client) -> None:
    r = make_client().get("/board/report", params={"period": "2024-M06"}, headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert "督查通报（截至6月）" in r.text
    row = _row(r.text, "gdp_growth")
    assert 'data-status="behind"' in row
    assert '<td class="dept">市发展改革委</td>' in row  # the owner (牵头单位)
    assert "地区生产总值增长" in row and "4.6%" in row
    assert 'id="listed-total">1项<' in r.text  # only the target with a figure that is behind


def test_the_report_of_a_month_before_the_figure_lists_nothing(make_client) -> None:
    # The Q2 figure covers June: a 通报 截至5月 must not count it.
    r = make_client().get("/board/report", params={"period": "2024-M05"})
    assert r.status_code == 200
    assert 'data-target="gdp_growth"' not in r.text and "本月没有滞后或存在风险的目标任务" in r.text


@pytest.mark.parametrize("period", [None, "2024-06", "2024-Q2"])
def test_a_bad_period_is_a_chinese_error_naming_period(make_client, period: str | None) -> None:
    c = make_client()
    params = {} if period is None else {"period": period}
    for path in ("/board/report", "/board/report.xlsx"):
        r = c.get(path, params=params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        (error,) = r.json()["errors"]
        assert error["loc"] == ["query", "period"]
        assert "参数 period" in error["msg_zh"] or "缺少参数 period" in error["msg_zh"]
    page = c.get("/board/report", params=params, headers={"Accept": "text/html"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "period" in page.text and "2024-M06" in page.text


def test_the_xlsx_has_the_same_row_cell_by_cell(make_client) -> None:
    r = make_client().get("/board/report.xlsx", params={"period": "2024-M06"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws.title == "截至6月" and ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:7] == ["序号", "板块", "目标任务", "牵头单位", "配合单位", "期别", "状态"]
    assert ws.max_row == 2  # the header and the one listed target
    row = [c.value for c in ws[2]]
    assert row[0] == 1
    assert row[2:7] == ["地区生产总值增长", "市发展改革委", "市统计局", "2024年上半年", "滞后"]
    assert row[7] == pytest.approx(4.6) and isinstance(row[7], float)  # a number, not text
    assert row[9] == "%"
    assert row[12]  # the 研判情况 is written out


def test_the_department_page_renders_its_targets(make_client) -> None:
    r = make_client().get("/board/departments/fgw", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert 'data-department="fgw"' in r.text and "市发展改革委 · 目标任务推进情况" in r.text
    row = _row(r.text, "gdp_growth")
    assert 'data-status="behind"' in row and '<div class="role">牵头</div>' in row
    # Only its own targets, led or co-led, none of another department's.
    assert r.text.count("data-target=") == len(FGW_TARGETS) and all(f'data-target="{t}"' in r.text for t in FGW_TARGETS)
    # EVALUATOR_ALERTS_URL unset: the page says the alerts are not shown.
    assert 'id="alerts-unavailable"' in r.text and "EVALUATOR_ALERTS_URL" in r.text


def test_an_unknown_department_is_404_as_a_page_or_as_problem_details(make_client) -> None:
    c = make_client()
    page = c.get("/board/departments/nosuch", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "未找到编号为“nosuch”的责任单位" in page.text
    r = c.get("/board/departments/nosuch")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    (error,) = r.json()["errors"]
    assert error["loc"] == ["path", "department_id"] and "nosuch" in error["msg_zh"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_page_renders_with_a_chinese_note_when_the_alerts_service_is_away(make_client) -> None:
    c = make_client(alerts_url=f"http://127.0.0.1:{_closed_port()}", alerts_timeout_s=2.0)
    r = c.get("/board/departments/fgw", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    assert 'data-target="gdp_growth"' in r.text
    assert 'id="alerts-unavailable">预警服务暂时无法访问' in r.text


class _AlertsApi(BaseHTTPRequestHandler):
    """Answers GET /v1/alerts as the alerts service does; records what it was asked."""

    asked: ClassVar[list[tuple[str, dict[str, list[str]], str | None]]] = []

    def do_GET(self) -> None:  # http.server's name
        url = urlsplit(self.path)
        self.asked.append((url.path, parse_qs(url.query), self.headers.get("Authorization")))
        body = json.dumps([{
            "id": "alert-1", "target_id": "gdp_growth", "status": "acknowledged", "severity": "warning",
            "target_status": "behind", "period": "2024-Q2", "section": "headline", "lead_department": "fgw",
            "co_departments": ["stats"], "message_zh": "地区生产总值增长4.6%，滞后",
            "opened_at": "2024-07-20T02:00:00Z", "updated_at": "2024-07-21T01:00:00Z", "resolved_at": None,
            "acknowledged_at": "2024-07-21T01:00:00Z", "acknowledged_by": "张三",
            "ack_explanation": "二季度工业增速放缓", "ack_measures": "加快重大项目开工", "escalation_level": 0,
        }]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def alerts_api() -> Iterator[str]:
    """A real HTTP server answering as the alerts service's GET /v1/alerts; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlertsApi)
    _AlertsApi.asked = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_page_shows_the_open_alerts_the_alerts_api_answers(make_client, alerts_api: str) -> None:
    c = make_client(alerts_url=alerts_api, alerts_token="read-token")
    r = c.get("/board/departments/fgw", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    (path, query, auth), = _AlertsApi.asked
    assert path == "/v1/alerts" and query["status"] == ["open"] and query["department"] == ["fgw"]
    assert auth == "Bearer read-token"
    start = r.text.index('data-alert="alert-1"')
    row = r.text[start:r.text.index("</tr>", start)]
    assert "地区生产总值增长" in row and "已确认" in row
    assert "张三，2024年7月21日 09:00" in row  # Beijing time
    assert "二季度工业增速放缓" in row and "加快重大项目开工" in row
    assert "未解除预警1条" in r.text and "alerts-unavailable" not in r.text


def test_the_report_gives_the_owners_acknowledgement_where_it_filed_no_status_report(
        make_client, alerts_api: str) -> None:
    """The 通报's 责任单位说明及整改措施: 市发展改革委 acknowledged the GDP alert on the alerts page; the 通报 (HTML and
    .xlsx) quotes its explanation and measures, and asks the alerts service only about the lead departments."""
    c = make_client(alerts_url=alerts_api, alerts_token="read-token")
    r = c.get("/board/report", params={"period": "2024-M06"}, headers={"Accept": "text/html"})
    x = c.get("/board/report.xlsx", params={"period": "2024-M06"})
    assert r.status_code == 200 and x.status_code == 200, r.text
    want = "2024年7月21日确认预警：二季度工业增速放缓；整改措施：加快重大项目开工"
    assert want in _row(r.text, "gdp_growth") and "acks-unavailable" not in r.text
    assert [c.value for c in load_workbook(io.BytesIO(x.content)).active[2]][13] == want
    assert {q["department"][0] for _, q, _ in _AlertsApi.asked} == {"fgw"}


def test_the_report_renders_and_says_so_when_the_acknowledgements_cannot_be_read(make_client) -> None:
    c = make_client(alerts_url=f"http://127.0.0.1:{_closed_port()}", alerts_timeout_s=2.0)
    r = c.get("/board/report", params={"period": "2024-M06"}, headers={"Accept": "text/html"})
    assert r.status_code == 200 and 'data-target="gdp_growth"' in r.text
    assert 'id="acks-unavailable">预警服务暂时无法访问' in r.text
