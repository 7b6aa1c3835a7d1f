"""The evaluator's HTTP API on a real database: status reports (authenticated), the board, one target's history."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.evaluator.config import EvaluatorSettings
from services.evaluator.handlers import ObservationHandler
from services.evaluator.main import create_app
from shared.catalogue import CatalogueError, load_catalogue
from shared.clock import FrozenClock
from shared.db import run_migrations
from tests.integration.evaluator_support import envelope, observation, published

MIGRATIONS = Path("services/evaluator/migrations")
TOKENS = {"sthjj": "sthjj-secret-token", "fgw": "fgw-secret-token"}
MILESTONE = "binding_environment_targets"  # qualitative, led by 市生态环境局 (sthjj)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def client(database_url: str):
    run_migrations(database_url, MIGRATIONS)
    settings = EvaluatorSettings(database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1",
                                 status_report_tokens={d: _sha(t) for d, t in TOKENS.items()})
    clock = FrozenClock(datetime(2024, 7, 5, 1, 30, tzinfo=UTC))
    app = create_app(settings, clock=clock)
    # No lifespan: this test needs neither the consumer nor the relay, only the routes and the database.
    c = TestClient(app)
    c.runtime = app.state.runtime  # type: ignore[attr-defined]
    yield c
    app.state.runtime.database.dispose()


def _report(client, status: str, note: str = "已形成初稿，正在征求意见。", token: str | None = TOKENS["sthjj"],
            target: str = MILESTONE):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post(f"/v1/targets/{target}/status-reports", json={"status": status, "note": note},
                       headers=headers)


def test_writing_a_status_report_needs_the_lead_departments_token(client) -> None:
    r = _report(client, "in_progress", token=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert _report(client, "in_progress", token="guessed").status_code == 401
    assert _report(client, "in_progress", token=_sha(TOKENS["sthjj"])).status_code == 401  # the hash is no token
    r = _report(client, "in_progress", token=TOKENS["fgw"])  # a valid token, but not the lead department's
    assert r.status_code == 403 and "'sthjj'" in r.json()["detail_en"]
    r = _report(client, "done", target="gdp_growth", token=TOKENS["fgw"])
    assert r.status_code == 409 and "statistics" in r.json()["detail_en"]
    assert _report(client, "done", target="no_such_target").status_code == 404
    r = _report(client, "finished")
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "status"]
    assert client.get(f"/v1/targets/{MILESTONE}/status-reports").json() == []


def test_status_reports_move_the_target_through_the_outbox_with_history(client) -> None:
    r = _report(client, "in_progress")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["target_status"], body["target_severity"], body["published"]) == ("in_progress", "ok", False)
    clock = client.runtime.clock
    clock.set(datetime(2024, 7, 5, 2, 0, tzinfo=UTC))
    r = _report(client, "at_risk", note="PM2.5浓度同比上升，完成省下达目标存在压力")
    assert r.json()["published"] is True
    clock.set(datetime(2024, 9, 30, 2, 0, tzinfo=UTC))
    r = _report(client, "in_progress", note="采取管控措施后浓度回落")
    assert r.json()["published"] is True  # the recovery is news too
    events = published(client.runtime.database.engine)
    assert [(e.target_id, e.status, e.severity, e.previous_status) for e in events] == [
        (MILESTONE, "at_risk", "warning", "in_progress"), (MILESTONE, "in_progress", "ok", "at_risk")]
    first = events[0]
    assert first.reported_by == "sthjj" and first.indicator is None and first.period == "2024"
    assert first.message_zh == (
        "节能减排、水和大气环境质量等约束性指标完成省下达目标（市生态环境局2024年7月5日报告）：进展情况为“存在完成风险”，"
        "说明：PM2.5浓度同比上升，完成省下达目标存在压力。状态由“推进中”转为“存在风险”。"
        "牵头单位：市生态环境局；配合单位：市发展改革委。"
    )
    assert "预警解除" in events[1].message_zh
    history = client.get(f"/v1/targets/{MILESTONE}/status-reports").json()
    assert [(h["status"], h["note"]) for h in history] == [
        ("in_progress", "采取管控措施后浓度回落"), ("at_risk", "PM2.5浓度同比上升，完成省下达目标存在压力"),
        ("in_progress", "已形成初稿，正在征求意见。")]
    assert {h["department"] for h in history} == {"sthjj"}
    evaluations = client.get(f"/v1/targets/{MILESTONE}/evaluations").json()
    assert [e["status"] for e in evaluations] == ["in_progress", "at_risk", "in_progress"]
    assert [e["report_id"] for e in evaluations] == [h["id"] for h in history]
    one = client.get(f"/v1/targets/{MILESTONE}").json()
    assert (one["status"], one["status_zh"], one["lead_department_zh"]) == ("in_progress", "推进中", "市生态环境局")


def test_board_filters_and_history(client) -> None:
    engine = client.runtime.database.engine
    handler = ObservationHandler(load_catalogue(), client.runtime.database.outbox, client.runtime.clock)
    for day, data in ((15, observation("gdp", "2024-Q1", "cumulative_yoy_pct", 4.9)),
                      (16, observation("gdp", "2024-Q2", "cumulative_yoy_pct", 5.3))):
        client.runtime.clock.set(datetime(2024, 7, day, tzinfo=UTC))
        with engine.begin() as conn:
            handler(conn, envelope(data), data)
    board = client.get("/v1/targets").json()
    assert len(board) == len(load_catalogue().targets)
    gdp = next(t for t in board if t["id"] == "gdp_growth")
    assert (gdp["status"], gdp["period"], gdp["actual"]) == ("on_track", "2024-Q2", 5.3)
    fgw = client.get("/v1/targets", params={"department": "fgw"}).json()
    assert fgw and all(t["lead_department"] == "fgw" or "fgw" in t["co_departments"] for t in fgw)
    s5 = client.get("/v1/targets", params={"section": "5"}).json()
    assert s5 and {t["section"] for t in s5} == {"5"}
    r = client.get("/v1/targets", params={"department": "nobody"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "department"]
    r = client.get("/v1/targets", params={"section": "10"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "section"]
    history = client.get("/v1/targets/gdp_growth/evaluations").json()
    assert [(h["period"], h["status"], h["observation_vintage"]) for h in history] == [
        ("2024-Q2", "on_track", 1), ("2024-Q1", "behind", 1)]
    assert client.get("/v1/targets/nope/evaluations").status_code == 404
    page = client.get("/board", params={"section": "headline"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="section-headline"' in page.text and 'id="section-1"' not in page.text


def test_tokens_are_configured_as_hashes_of_known_departments(database_url: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        EvaluatorSettings(database_url=database_url, status_report_tokens={"fgw": "plain-token"})
    settings = EvaluatorSettings(database_url=database_url, status_report_tokens={"nobody": _sha("x")})
    with pytest.raises(CatalogueError, match=r"EVALUATOR_STATUS_REPORT_TOKENS.*'nobody'"):
        create_app(settings)


def test_without_tokens_nobody_can_write(database_url: str) -> None:
    run_migrations(database_url, MIGRATIONS)
    app = create_app(EvaluatorSettings(database_url=database_url))
    r = TestClient(app).post(f"/v1/targets/{MILESTONE}/status-reports", json={"status": "done", "note": "完成"},
                             headers={"Authorization": "Bearer anything"})
    assert r.status_code == 401
    app.state.runtime.database.dispose()


def test_the_board_reads_every_targets_trend_in_one_query(client) -> None:
    """The 全年趋势 and 年底预判 of all 152 targets come from one query on ``evaluations``, not one per target."""
    from sqlalchemy import event

    engine = client.runtime.database.engine
    handler = ObservationHandler(load_catalogue(), client.runtime.database.outbox, client.runtime.clock)
    for day, data in ((15, observation("gdp", "2024-Q1", "cumulative_yoy_pct", 4.9)),
                      (16, observation("gdp", "2024-Q2", "cumulative_yoy_pct", 5.3)),
                      (17, observation("retail_sales", "2024-M05", "cumulative_yoy_pct", 6.6))):
        client.runtime.clock.set(datetime(2024, 7, day, tzinfo=UTC))
        with engine.begin() as conn:
            handler(conn, envelope(data), data)
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/board")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    on_evaluations = [s for s in statements if "FROM evaluations" in s]
    assert len(on_evaluations) == 1, on_evaluations
    assert len(statements) <= 3, statements  # the states, the evaluations (and nothing per target)
    row = page.text.split('data-target="gdp_growth"')[1].split("</tr>")[0]
    assert "3月实际值4.9%；6月实际值5.3%" in row and "已有2期数据，不足3期" in row
