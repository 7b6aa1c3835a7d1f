"""The signed acknowledgement link: a page where the department states its explanation and 整改措施.

GET shows the alert and a form; POST (the form, urlencoded) acknowledges. The link's signature is the
credential: it names one alert and one department and expires (links.py).
"""

from __future__ import annotations

import html
import json
import urllib.parse

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from services.alerts import service
from services.alerts.runtime import runtime

router = APIRouter(prefix="/v1", tags=["acknowledgement link"])

_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.6}}
textarea,input{{width:100%;box-sizing:border-box;margin-bottom:1rem}}textarea{{height:7rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _check(request: Request, alert_id: str, department: str | None, expires: int | None,
           signature: str | None) -> None:
    # A link without its parameters is no credential at all: 403, like a wrong one (not 422).
    if not department or expires is None or not signature:
        raise HTTPException(403, "acknowledgement link: department, expires and signature are required")
    rt = runtime(request)
    problem = rt.links.check(alert_id, department, expires, signature, rt.clock().timestamp())
    if problem:
        raise HTTPException(403, f"acknowledgement link: {problem}")


@router.get("/ack/{alert_id}", response_class=HTMLResponse, responses={403: {}, 404: {}})
def ack_form(alert_id: str, request: Request, department: str | None = Query(default=None, max_length=64),
             expires: int | None = Query(default=None), signature: str | None = Query(default=None, max_length=64),
             ) -> HTMLResponse:
    """The acknowledgement form of one alert, for the department the link was made for."""
    _check(request, alert_id, department, expires, signature)
    assert department is not None and expires is not None and signature is not None
    rt = runtime(request)
    with rt.db.read() as repos:
        row = repos.alerts.get(alert_id)
    if row is None:
        raise HTTPException(404, f"no alert {alert_id!r}")
    dept_zh = html.escape(rt.catalogue.department_name(department))
    info = f"<p>致：{dept_zh}</p><p>{html.escape(row.message_zh)}</p>"
    if row.status == "resolved":
        return _page("预警已解除", info + "<p>该目标已恢复正常进度，预警已自动解除，无需确认。</p>")
    if row.status == "acknowledged":
        info += (f"<p>已于{row.acknowledged_at:%Y-%m-%d %H:%M}由{html.escape(row.acknowledged_by or '')}确认。"
                 "如需更新说明和整改措施，可再次提交。</p>")
    query = html.escape(urllib.parse.urlencode({"department": department, "expires": expires,
                                                "signature": signature}))
    form = (f'<form method="post" action="/v1/ack/{html.escape(alert_id)}?{query}">'
            '<label>填报人（姓名、职务）<input name="by" required maxlength="200"></label>'
            '<label>原因说明<textarea name="explanation" required minlength="2" maxlength="5000"></textarea></label>'
            '<label>整改措施<textarea name="measures" required minlength="2" maxlength="5000"></textarea></label>'
            '<button type="submit">确认预警并提交整改措施</button></form>')
    return _page("预警确认", info + form)


@router.post("/ack/{alert_id}", response_class=HTMLResponse, responses={403: {}, 404: {}, 409: {}, 422: {}})
async def ack_submit(alert_id: str, request: Request, department: str | None = Query(default=None, max_length=64),
                     expires: int | None = Query(default=None),
                     signature: str | None = Query(default=None, max_length=64)) -> HTMLResponse:
    """Acknowledge with the form's explanation and measures (application/x-www-form-urlencoded or JSON)."""
    _check(request, alert_id, department, expires, signature)
    assert department is not None
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            doc = json.loads(raw)
        except ValueError:
            raise HTTPException(422, "body: not JSON") from None
        form = {k: str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    else:
        form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8", "replace")).items()}
    for field in ("by", "explanation", "measures"):
        if len(form.get(field, "").strip()) < (1 if field == "by" else 2):
            raise HTTPException(422, f"field {field!r}: required")
    rt = runtime(request)
    dept_zh = rt.catalogue.department_name(department)
    try:
        with rt.db.transaction() as repos:
            # The link names the department; the person filling the form names themselves (kept beside it).
            service.acknowledge(repos, alert_id, by=f"{form['by'].strip()[:200]}（{dept_zh}）",
                                explanation=form["explanation"].strip()[:5000],
                                measures=form["measures"].strip()[:5000], now=rt.clock())
    except service.NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except service.Conflict:
        return _page("预警已解除", "<p>该目标已恢复正常进度，预警已自动解除，无需确认。</p>", 409)
    return _page("已确认", "<p>预警已确认，原因说明和整改措施已记录。请按整改措施抓好落实。</p>")
