"""The error contract's pure parts: problem bodies, the HTTPException mapping, Chinese texts, the OpenAPI hook."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException

from shared.health import health_router
from shared.problems import PROBLEM_JSON, Failure, Problem, document, from_http_exception, validation_failures
from shared.problems_zh import STATUS_TITLES, known_types, translate

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_problem_renders_rfc_9457_with_chinese_first() -> None:
    p = Problem.of(404, "unknown_target", "no target 'x'", "没有编号为 x 的目标", loc=("path", "target_id"))
    assert p.body() == {
        "type": "urn:wuxi-targets:problem:unknown_target", "title": "未找到请求的资源", "status": 404,
        "detail": "没有编号为 x 的目标", "title_en": "Not found", "detail_en": "no target 'x'",
        "errors": [{"loc": ["path", "target_id"], "type": "unknown_target", "msg": "no target 'x'",
                    "msg_zh": "没有编号为 x 的目标"}]}
    assert p.response().media_type == PROBLEM_JSON


def test_several_errors_summarise_and_name_the_status() -> None:
    errors = [Failure(("body", i), f"r{i % 2}", f"m{i}", f"错{i}") for i in range(5)]
    body = Problem(422, errors).body()
    assert body["type"].endswith(":invalid_request") and body["detail"] == "错0；错1；错2；… (+2)"


def test_http_exceptions_keep_working_with_a_generic_chinese_text() -> None:
    p = from_http_exception(HTTPException(409, "already acknowledged", headers={"X-A": "1"}))
    assert (p.status, p.code, p.title_zh, p.detail, p.headers) == (409, "conflict", "与当前状态冲突",
                                                                    "already acknowledged", {"X-A": "1"})
    listed = from_http_exception(HTTPException(422, [{"loc": ["query", "section"], "msg": "bad",
                                                      "type": "value_error"}]))
    assert [(e.loc, e.type, e.msg_zh) for e in listed.errors] == [
        (("query", "section"), "value_error", "取值无效：bad")]
    parse = from_http_exception(HTTPException(400, "There was an error parsing the body"), invalid_json_status=422)
    assert (parse.status, parse.code) == (422, "json_invalid")


class _Sample(BaseModel):
    name: str = Field(max_length=3)
    count: int = Field(ge=1)
    share: float
    flag: bool
    kind: int = Field(le=2)


@pytest.mark.parametrize(("data", "expected"), [
    ({"name": "long", "count": 0, "share": "x", "flag": "perhaps", "kind": 3},
     ["长度不能超过3个字符", "应大于或等于1", "应为数字", "应为布尔值（true 或 false）", "应小于或等于2"]),
    ({}, ["缺少必填字段"] * 5),
])
def test_pydantic_errors_are_translated_from_their_type_and_context(data: dict[str, object],
                                                                    expected: list[str]) -> None:
    with pytest.raises(ValidationError) as exc:
        _Sample.model_validate(data)
    assert [f.msg_zh for f in validation_failures(exc.value.errors(), ("body",))] == expected


def test_every_known_type_and_status_has_chinese() -> None:
    for t in known_types():
        assert CJK.search(translate(t, {"max_length": 1, "min_length": 1, "ge": 0, "le": 0, "gt": 0, "lt": 0,
                                        "expected": "'a'", "multiple_of": 2}, "m")), t
    assert CJK.search(translate("some_future_type", {}, "English")) and "English" in translate("x", {}, "English")
    assert all(CJK.search(zh) and en for zh, en in STATUS_TITLES.values())


def test_the_openapi_hook_documents_every_error_as_problem_details() -> None:
    from fastapi import FastAPI

    app = FastAPI()
    app.include_router(health_router({}))

    @app.post("/things/{n}", responses={404: {"description": "no such thing"}})
    def make(n: int, body: _Sample) -> dict[str, int]:
        return {"n": n}

    doc = document(app.openapi())
    responses = doc["paths"]["/things/{n}"]["post"]["responses"]
    assert set(responses) >= {"400", "404", "413", "422", "500"}
    for code in ("400", "404", "413", "422", "500"):
        assert responses[code]["content"] == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert "ValidationError" not in doc["components"]["schemas"]
    readyz = doc["paths"]["/readyz"]["get"]["responses"]["503"]
    assert PROBLEM_JSON not in readyz["content"] and "x-not-a-problem" not in readyz  # the health body stays
