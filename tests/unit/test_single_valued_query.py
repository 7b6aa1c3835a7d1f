"""A query parameter given twice is refused when the operation takes one value (shared/app.py)."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Query
from fastapi.testclient import TestClient

from shared import problems
from shared.app import single_valued_query


def _client() -> TestClient:
    app = FastAPI(dependencies=[Depends(single_valued_query)])
    problems.install(app)

    def paging(limit: int = Query(default=10)) -> int:
        return limit

    @app.get("/one")
    def one(region: str | None = None, page: int = Depends(paging)) -> dict[str, object]:
        return {"region": region, "limit": page}

    @app.get("/many")
    def many(region: list[str] | None = Query(default=None)) -> dict[str, object]:
        return {"region": region}

    return TestClient(app)


def test_a_single_valued_parameter_given_twice_is_refused_in_chinese_too() -> None:
    r = _client().get("/one", params=[("region", "jiangyin"), ("region", "yixing")])
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["loc"] == ["query", "region"]
    assert error["type"] == "repeated_parameter"
    assert "只能给一个值" in error["msg_zh"]


def test_the_rule_reaches_the_parameters_of_dependencies() -> None:
    r = _client().get("/one", params=[("limit", "5"), ("limit", "6")])
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "limit"]


def test_list_parameters_and_single_values_pass() -> None:
    c = _client()
    assert c.get("/one", params={"region": "jiangyin"}).json() == {"region": "jiangyin", "limit": 10}
    assert c.get("/many", params=[("region", "a"), ("region", "b")]).json() == {"region": ["a", "b"]}
