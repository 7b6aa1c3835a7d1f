"""Uploading the files bureaus produce: over HTTP, and with the command-line client against a live server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.broker import TansuBroker
from services.ingest import client as cli
from tests.integration.ingest_app import ADMIN, Ingest, running_ingest, serving

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
JIANGYIN = SAMPLES / "jiangyin-2024-h1.csv"
SDMX = SAMPLES / "wuxi-2024-q1.sdmx.csv"


@pytest.fixture
def ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[Ingest]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix) as app:
        yield app


def _upload(ingest: Ingest, body: bytes, auth: dict[str, str], **params: str):  # type: ignore[no-untyped-def]
    return ingest.client.post("/v1/observations/upload", content=body, params=params,
                              headers={**auth, "Content-Type": "text/csv"})


def test_a_bureaus_gbk_spreadsheet_export_is_stored_row_by_row(ingest: Ingest) -> None:
    auth = ingest.key("江阴市统计局", regions=["jiangyin"])
    body = JIANGYIN.read_bytes()
    dry = _upload(ingest, body, auth, dry_run="true")
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["created"] == 14
    assert ingest.outbox_count() == 0
    r = _upload(ingest, body, auth)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert (doc["format"], doc["encoding"], doc["ignored_columns"]) == ("csv", "gb18030", ["序号"])
    assert [row["line"] for row in doc["rows"]] == list(range(2, 16))
    assert doc["created"] == 14 and ingest.outbox_count() == 14
    revenue = ingest.client.get("/v1/observations", headers=auth, params={
        "indicator": "general_budget_revenue", "region": "jiangyin", "period": "2024-M06"}).json()
    level = next(o for o in revenue if o["measure"] == "cumulative_level")
    assert (level["value"], level["unit"], level["submitted_value"], level["submitted_unit"]) == (
        137.86, "亿元", 1378600.0, "万元")
    again = _upload(ingest, body, auth)
    assert again.json()["unchanged"] == 14 and ingest.outbox_count() == 14


def test_sdmx_csv_upload(ingest: Ingest) -> None:
    r = _upload(ingest, SDMX.read_bytes(), ingest.key())
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "sdmx-csv" and r.json()["created"] == 5


def test_upload_rejections_name_line_column_and_rule(ingest: Ingest) -> None:
    auth = ingest.key("江阴市统计局", regions=["jiangyin"])
    header = "指标,地区,期别,口径,数值,单位,数据状态,备注\n"
    body = (header + "地区生产总值,江阴市,2024年上半年,累计增速,5.8,%,初步数,\n"
            "地区生产总值,江阴市,2024年三季度,累计增速,5.8,%,初步数,\n"
            "地区生产总值,江阴市,2024年上半年,累计,abc,亿元,初步数,\n"
            "地区生产总值,江阴市,2024年上半年,累计,100,万美元,初步数,=1+1\n").encode()
    r = _upload(ingest, body, auth)
    assert r.status_code == 422
    assert [(d["loc"], d["type"]) for d in r.json()["errors"]] == [
        (["file", 3, "期别"], "period_not_ended"),  # 三季度 is under way on 2024-07-20
        (["file", 4, "数值"], "number"),
        (["file", 5, "备注"], "formula_injection"),
    ]
    assert ingest.outbox_count() == 0
    r = _upload(ingest, (header + "地区生产总值,宜兴市,2024年上半年,累计增速,5.8,%,初步数,\n").encode(), auth)
    assert r.status_code == 403 and r.json()["errors"][0]["loc"] == ["file", 2, "地区"]
    r = _upload(ingest, (header + '地区生产总值,江阴市,"2024年上半年,累计增速,5.8,%,初步数,\n').encode(), auth)
    assert r.status_code == 400 and r.json()["errors"][0]["type"] == "csv_quoting"
    r = _upload(ingest, header.encode(), auth)
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "no_rows"


@pytest.fixture
def live_ingest(database_url: str, broker: TansuBroker, topic_prefix: str) -> Iterator[tuple[str, Ingest]]:
    with running_ingest(database_url, broker.bootstrap, topic_prefix) as ingest, serving(ingest) as url:
        yield url, ingest


def test_cli_uploads_the_sample_file_in_chunks_with_progress(live_ingest: tuple[str, Ingest], tmp_path: Path) -> None:
    url, ingest = live_ingest
    key = ingest.key("江阴市统计局", regions=["jiangyin"])["Authorization"].removeprefix("Bearer ")
    out, err = io.StringIO(), io.StringIO()
    status = cli.upload(JIANGYIN, url=url, key=key, chunk_rows=4, out=out, err=err)
    assert status == 0, out.getvalue() + err.getvalue()
    lines = out.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines[:14]] == [str(n) for n in range(2, 16)]
    assert all(" created " in ln for ln in lines[:14])
    assert "14 rows stored (14 created)" in lines[-1]
    assert "checking  [" in err.getvalue() and "uploading [" in err.getvalue() and "14/14 rows" in err.getvalue()
    assert ingest.outbox_count() == 14

    # A bad row in the last chunk: nothing of the file is stored, the line is the file's.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(JIANGYIN.read_bytes().replace("5.8".encode("gbk"), "5.9".encode("gbk")).replace(
        "0.4,%".encode("gbk"), "abc,%".encode("gbk")))
    out = io.StringIO()
    assert cli.upload(bad, url=url, key=key, chunk_rows=4, out=out, err=io.StringIO()) == 1
    assert "line 15, column 数值" in out.getvalue() and "nothing stored" in out.getvalue()
    assert ingest.outbox_count() == 14

    assert cli.upload(JIANGYIN, url=url, key="wxk_wrong", out=(o := io.StringIO()), err=io.StringIO()) == 1
    assert "unknown_api_key" in o.getvalue()
    r = ingest.client.get("/admin/keys", headers=ADMIN)
    assert r.status_code == 200


def test_cli_command_line(live_ingest: tuple[str, Ingest], capsys: pytest.CaptureFixture[str]) -> None:
    url, ingest = live_ingest
    key = ingest.key()["Authorization"].removeprefix("Bearer ")
    assert cli.main(["upload", str(SDMX), "--url", url, "--key", key, "--dry-run"]) == 0
    assert "5 rows checked, nothing stored (5 created)" in capsys.readouterr().out
    assert ingest.outbox_count() == 0
