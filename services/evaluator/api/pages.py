"""What the department page and the 督查通报 share: the page shell, errors a browser reads, figures in words.

A person opens these pages in a browser: an error is then a Chinese page with the same status (as the
acknowledgement page does); any other client gets the problem details every route answers.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

from services.evaluator.api.board import _CSS
from services.evaluator.api.read_model import BoardEntry
from services.evaluator.domain.briefing import BEIJING
from shared.problems import Problem
from shared.wording import amount, figure_labels, share

_TITLES = {404: "未找到", 422: "请求参数有误"}


def wants_html(request: Request) -> bool:
    """Whether the client reads HTML (a browser) rather than problem details."""
    return "text/html" in request.headers.get("accept", "")


def page(title: str, body: str, *, css: str = "", status: int = 200) -> HTMLResponse:
    """A whole page in the board's style."""
    return HTMLResponse(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}{css}</style></head><body>{body}</body></html>",
        status_code=status)


def human(request: Request, problem: Problem) -> HTMLResponse:
    """``problem`` as a Chinese page for a browser; raised as problem details for anyone else."""
    if not wants_html(request):
        raise problem
    title = _TITLES.get(problem.status, problem.title_zh)
    body = f"<h1>{escape(title)}</h1>" + "".join(f'<p class="error">{escape(e.msg_zh)}</p>' for e in problem.errors)
    return page(title, body + '<p><a href="/board">返回目标进展看板</a></p>', status=problem.status)


def beijing(at: datetime, *, with_time: bool = True) -> str:
    """A time as a department reads it, in Beijing time."""
    local = at.astimezone(BEIJING)
    day = f"{local.year}年{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}" if with_time else day


def figures_zh(entry: BoardEntry) -> str:
    """The latest figures in the words of a notification: 完成率 against 序时进度 where the kind has them."""
    t = entry.target
    actual_label, expected_label, progress_label = figure_labels(t.kind.value)
    parts = []
    if entry.actual is not None:
        parts.append(f"{actual_label}{amount(entry.actual, t.unit)}")
    if entry.expected is not None:
        parts.append(f"{expected_label}{amount(entry.expected, t.unit)}")
    if progress_label and entry.progress is not None:
        done = f"{progress_label}{share(entry.progress)}"
        if entry.expected_progress is not None:
            done += f"（序时进度{share(entry.expected_progress)}）"
        parts.append(done)
    return "，".join(parts) or "—"
