"""The signed acknowledgement link: a page where the department states its explanation and 整改措施.

GET shows the alert and a form; POST (the form, urlencoded) acknowledges. The link's signature is the
credential: it names one alert and one department and expires (links.py).

A person opens the link in a browser: every answer, errors included, is a Chinese page when the request
accepts HTML, and problem details (Chinese and English) otherwise. Times are shown in Beijing time, named.
"""

from __future__ import annotations

import html
import inspect
import json
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from services.alerts import service
from services.alerts.runtime import runtime
from shared.clock import CHINA_TZ
from shared.problems import Failure, Problem

router = APIRouter(prefix="/v1", tags=["acknowledgement link"])

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.6}}
textarea,input{{width:100%;box-sizing:border-box;margin-bottom:1rem}}textarea{{height:7rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


_FIELD_ZH = {"by": "填报人（姓名、职务）", "explanation": "原因说明（至少2个字）", "measures": "整改措施（至少2个字）"}
_LINK_PROBLEMS_ZH = {
    "signature: acknowledgement links are not enabled": "本系统未启用确认链接，请通过系统或值班电话确认。",
    "signature: does not match (the link was altered or is not ours)": "链接无效：链接内容不完整或已被改动，"
    "请从预警通知中重新打开确认链接。",
    "expires: the link has expired": "链接已过期，请使用最近一次预警通知中的确认链接，或联系督查室。",
}


def beijing_time(at: datetime) -> str:
    """A time as a department reads it: Beijing time, with the zone named."""
    return f"{at.astimezone(CHINA_TZ):%Y年%m月%d日 %H:%M}（北京时间）"


def _check(request: Request, alert_id: str, department: str | None, expires: str | None,
           signature: str | None) -> tuple[str, int, str]:
    # A link without its parameters is no credential at all: 403, like a wrong one (not 422).
    if not department or not expires or not signature:
        raise Problem.of(403, "incomplete_link", "acknowledgement link: department, expires and signature are "
                         "required", "链接不完整：缺少部门、有效期或签名，请从预警通知中完整复制确认链接。")
    if not expires.isdigit() or len(expires) > 12:
        raise Problem.of(403, "invalid_link", "acknowledgement link: expires is not a time",
                         "链接无效：有效期不正确，请从预警通知中重新打开确认链接。", loc=("query", "expires"))
    rt = runtime(request)
    problem = rt.links.check(alert_id, department, int(expires), signature, rt.clock().timestamp())
    if problem:
        raise Problem.of(403, "invalid_link", f"acknowledgement link: {problem}",
                         _LINK_PROBLEMS_ZH.get(problem, "链接无效，请从预警通知中重新打开确认链接。"))
    return department, int(expires), signature


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _human(route: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a browser's request that fails as a Chinese page with the same status."""

    @wraps(route)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        request: Request = kwargs["request"]
        try:
            if inspect.iscoroutinefunction(route):
                return await route(*args, **kwargs)
            # A plain route reads the database: off the event loop, as FastAPI would run it.
            return await run_in_threadpool(route, *args, **kwargs)
        except Problem as problem:
            if not _wants_html(request):
                raise
            title = {403: "链接无效", 404: "未找到该预警", 422: "填报内容不完整"}.get(problem.status, "无法处理")
            body = "".join(f"<p>{html.escape(e.msg_zh)}</p>" for e in problem.errors)
            return _page(title, body, problem.status)

    return wrapper


@router.get("/ack/{alert_id}", response_class=HTMLResponse, responses={403: {}, 404: {}})
@_human
def ack_form(alert_id: str, request: Request, department: str | None = Query(default=None, max_length=64),
             expires: str | None = Query(default=None, max_length=16),
             signature: str | None = Query(default=None, max_length=64)) -> HTMLResponse:
    """The acknowledgement form of one alert, for the department the link was made for."""
    department, expires_at, signature = _check(request, alert_id, department, expires, signature)
    rt = runtime(request)
    with rt.db.read() as repos:
        row = repos.alerts.get(alert_id)
    if row is None:
        raise Problem.of(404, "unknown_alert", f"no alert {alert_id!r}", "未找到该预警，可能已被清理，请联系督查室。",
                         loc=("path", "alert_id"))
    dept_zh = html.escape(rt.catalogue.department_name(department))
    info = f"<p>致：{dept_zh}</p><p>{html.escape(row.message_zh)}</p>"
    if row.status == "resolved":
        return _page("预警已解除", info + "<p>该目标已恢复正常进度，预警已自动解除，无需确认。</p>")
    if row.status == "acknowledged":
        info += (f"<p>已于{beijing_time(row.acknowledged_at)}由{html.escape(row.acknowledged_by or '')}确认。"
                 "如需更新说明和整改措施，可再次提交。</p>")
    query = html.escape(urllib.parse.urlencode({"department": department, "expires": expires_at,
                                                "signature": signature}))
    form = (f'<form method="post" action="/v1/ack/{html.escape(alert_id)}?{query}">'
            '<label>填报人（姓名、职务）<input name="by" required maxlength="200"></label>'
            '<label>原因说明<textarea name="explanation" required minlength="2" maxlength="5000"></textarea></label>'
            '<label>整改措施<textarea name="measures" required minlength="2" maxlength="5000"></textarea></label>'
            '<button type="submit">确认预警并提交整改措施</button></form>')
    return _page("预警确认", info + form)


@router.post("/ack/{alert_id}", response_class=HTMLResponse, responses={403: {}, 404: {}, 409: {}, 422: {}})
@_human
async def ack_submit(alert_id: str, request: Request, department: str | None = Query(default=None, max_length=64),
                     expires: str | None = Query(default=None, max_length=16),
                     signature: str | None = Query(default=None, max_length=64)) -> HTMLResponse:
    """Acknowledge with the form's explanation and measures (application/x-www-form-urlencoded or JSON)."""
    department, _, _ = _check(request, alert_id, department, expires, signature)
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            doc = json.loads(raw)
        except ValueError:
            raise Problem.of(422, "json_invalid", "body: not JSON", "请求内容不是有效的 JSON", loc=("body",)) from None
        form = {k: str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    else:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8", "replace")).items()}
    missing = [f for f in ("by", "explanation", "measures") if len(form.get(f, "").strip()) < (1 if f == "by" else 2)]
    if missing:
        raise Problem(422, [Failure(("body", f), "missing", f"field {f!r}: required", f"请填写{_FIELD_ZH[f]}")
                            for f in missing])
    rt = runtime(request)
    dept_zh = rt.catalogue.department_name(department)
    try:
        with rt.db.transaction() as repos:
            # The link names the department; the person filling the form names themselves (kept beside it).
            service.acknowledge(repos, alert_id, by=f"{form['by'].strip()[:200]}（{dept_zh}）",
                                explanation=form["explanation"].strip()[:5000],
                                measures=form["measures"].strip()[:5000], now=rt.clock())
    except service.NotFound as exc:
        raise Problem.of(404, "unknown_alert", str(exc), "未找到该预警，可能已被清理，请联系督查室。",
                         loc=("path", "alert_id")) from None
    except service.Conflict:
        return _page("预警已解除", "<p>该目标已恢复正常进度，预警已自动解除，无需确认。</p>", 409)
    return _page("已确认", "<p>预警已确认，原因说明和整改措施已记录。请按整改措施抓好落实。</p>")
