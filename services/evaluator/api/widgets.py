"""Reusable HTML pieces of the evaluator's pages: a progress bar, a status lamp, a trend sparkline. No scripts.

Each returns an HTML fragment (escaped); a page that uses them includes ``WIDGET_CSS`` in its style sheet. They
work without JavaScript and offline: the bar is positioned with inline percentages, the sparkline is inline SVG.
Accessibility: the bar is a ``role="progressbar"`` with its values and a Chinese label; the lamp always has its
status text beside the colour; the sparkline is a ``role="img"`` with a ``<title>`` and a ``<desc>``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from services.evaluator.domain.evaluation import SEVERITY_OF, STATUS_ZH, Status

# Lamp colours by severity (critical 红, warning 黄, ok 绿; no data or not judged 灰): also the bars' fills.
LAMP_COLOURS = {"red": "#cf222e", "yellow": "#d4a72c", "green": "#2da44e", "grey": "#8c959f"}
LAMP_ZH = {"red": "红灯", "yellow": "黄灯", "green": "绿灯", "grey": "灰灯"}
_LAMP_OF_SEVERITY = {"critical": "red", "warning": "yellow", "ok": "green"}
# Not judged yet: grey, whatever the severity table says (暂不评估 is not good news).
_GREY_STATUSES = frozenset({Status.NOT_EVALUATED, Status.NOT_STARTED})

WIDGET_CSS = """
.lamp{display:inline-flex;align-items:center;gap:6px;white-space:nowrap;font-weight:600}
.lamp-dot{display:inline-block;width:12px;height:12px;border-radius:50%;flex:none}
.lamp-red .lamp-dot{background:#cf222e}.lamp-yellow .lamp-dot{background:#d4a72c}
.lamp-green .lamp-dot{background:#2da44e}.lamp-grey .lamp-dot{background:#8c959f}
.lamp-red{color:#a40e26}.lamp-yellow{color:#7d4e00}.lamp-green{color:#116329}.lamp-grey{color:#57606a}
.pbar-wrap{min-width:150px}
.pbar{position:relative;height:12px;background:#eaeef2;border-radius:6px;overflow:visible;margin:4px 0 2px}
.pbar-band{position:absolute;top:0;height:12px;background:#c8e1ff}
.pbar-fill{position:absolute;top:2px;height:8px;border-radius:4px}
.pbar-red .pbar-fill{background:#cf222e}.pbar-yellow .pbar-fill{background:#d4a72c}
.pbar-green .pbar-fill{background:#2da44e}.pbar-grey .pbar-fill{background:#8c959f}
.pbar-zero{position:absolute;top:0;width:1px;height:12px;background:#57606a}
.pbar-mark{position:absolute;top:-3px;width:3px;height:18px;margin-left:-1px;background:#1f2328}
.pbar-caption{font-size:12px;color:#424a53;line-height:1.4}
.spark{display:block}.spark-none{font-size:12px;color:#57606a}
"""


def _num(x: float, decimals: int = 1) -> str:
    """A figure as the page prints it: at most ``decimals`` decimals, no trailing zeros."""
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def lamp_colour(status: str | None, severity: str | None = None) -> str:
    """The lamp's colour for a status: red, yellow, green, or grey when there is no data or no verdict yet."""
    if status is None:
        return "grey"
    s = Status(status)
    if s in _GREY_STATUSES:
        return "grey"
    return _LAMP_OF_SEVERITY[severity or SEVERITY_OF[s].value]


def lamp(status: str | None, severity: str | None = None) -> str:
    """A coloured lamp (红/黄/绿, 灰 for no data) with the status text beside it: the colour never stands alone."""
    colour = lamp_colour(status, severity)
    text = STATUS_ZH[Status(status)] if status is not None else "暂无数据"
    return (f'<span class="lamp lamp-{colour}" data-lamp="{colour}" title="{LAMP_ZH[colour]}：{escape(text)}">'
            f'<span class="lamp-dot" aria-hidden="true"></span>{escape(text)}</span>')


def _pct(x: float, lo: float, hi: float) -> float:
    """Where ``x`` falls on the bar, in % of its width (clamped to the bar)."""
    return round(min(100.0, max(0.0, (x - lo) / (hi - lo) * 100)), 2)


def progress_bar(value: float, *, label: str, value_text: str, minimum: float = 0.0, maximum: float = 100.0,
                 mark: float | None = None, mark_label: str = "序时进度", band: tuple[float, float] | None = None,
                 caption: str = "", colour: str = "green") -> str:
    """A horizontal bar of ``value`` on [minimum, maximum] (widened to hold the value and the mark), with an
    optional mark (序时进度, a target) and a shaded band (a 左右 range), as ``role="progressbar"``."""
    lo = min(minimum, value, mark if mark is not None else minimum)
    hi = max(maximum, value, mark if mark is not None else maximum)
    if hi <= lo:
        raise ValueError("progress_bar: maximum must be above minimum")
    zero = _pct(0.0, lo, hi)
    here = _pct(value, lo, hi)
    left, width = min(zero, here), abs(here - zero)
    parts = [f'<div class="pbar-wrap"><div class="pbar pbar-{escape(colour)}" role="progressbar" '
             f'aria-valuenow="{_num(value, 2)}" aria-valuemin="{_num(lo, 2)}" aria-valuemax="{_num(hi, 2)}" '
             f'aria-valuetext="{escape(value_text)}" aria-label="{escape(label)}">']
    if band is not None:
        b0, b1 = _pct(band[0], lo, hi), _pct(band[1], lo, hi)
        parts.append(f'<span class="pbar-band" style="left:{b0}%;width:{round(b1 - b0, 2)}%"></span>')
    parts.append(f'<span class="pbar-fill" style="left:{left}%;width:{round(width, 2)}%"></span>')
    if lo < 0:
        parts.append(f'<span class="pbar-zero" style="left:{zero}%"></span>')
    if mark is not None:
        parts.append(f'<span class="pbar-mark" style="left:{_pct(mark, lo, hi)}%" '
                     f'title="{escape(mark_label)}"></span>')
    parts.append("</div>")
    if caption:
        parts.append(f'<div class="pbar-caption">{escape(caption)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _poly(points: Sequence[tuple[float, float]], sx: Callable[[float], float], sy: Callable[[float], float]) -> str:
    return " ".join(f"{sx(x)},{sy(y)}" for x, y in points)


def sparkline(points: Sequence[tuple[float, float]], *, uid: str, title: str, desc: str,
              path: Sequence[tuple[float, float]] = (), projection: tuple[float, float] | None = None,
              band: tuple[float, float] | None = None, x_max: float = 12.0, width: int = 132, height: int = 40,
              colour: str = "green") -> str:
    """A small inline SVG of a series over the year (x: month 0..``x_max``): the figures as a line with dots,
    ``path`` (序时进度 or the target) dotted, the year-end ``projection`` dashed from the last figure, ``band``
    shaded; a ``<title>`` and ``<desc>`` say what it shows. No points: a short note instead."""
    if not points:
        return f'<span class="spark-none">{escape(title)}：暂无数据</span>'
    ys = [y for _, y in points] + [y for _, y in path]
    if projection is not None:
        ys.append(projection[1])
    if band is not None:
        ys.extend(band)
    lo, hi = min(ys), max(ys)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    pad = (hi - lo) * 0.1
    lo, hi = lo - pad, hi + pad
    inner_w, inner_h, m = width - 6, height - 6, 3

    def sx(x: float) -> float:
        return round(m + x / x_max * inner_w, 1)

    def sy(y: float) -> float:
        return round(m + (hi - y) / (hi - lo) * inner_h, 1)

    stroke = LAMP_COLOURS.get(colour, LAMP_COLOURS["grey"])
    safe = escape(uid)
    out = [f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{safe}-t {safe}-d">'
           f'<title id="{safe}-t">{escape(title)}</title><desc id="{safe}-d">{escape(desc)}</desc>',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff" stroke="#d0d7de"/>']
    if band is not None:
        top, bottom = sy(max(band)), sy(min(band))
        out.append(f'<rect class="spark-band" x="{m}" y="{top}" width="{inner_w}" height="{round(bottom - top, 1)}" '
                   f'fill="#c8e1ff"/>')
    if path:
        out.append(f'<polyline class="spark-path" points="{_poly(path, sx, sy)}" fill="none" stroke="#57606a" '
                   f'stroke-width="1" stroke-dasharray="2 2"/>')
    last = points[-1]
    if projection is not None:
        out.append(f'<line class="spark-projection" x1="{sx(last[0])}" y1="{sy(last[1])}" x2="{sx(projection[0])}" '
                   f'y2="{sy(projection[1])}" stroke="{stroke}" stroke-width="1.5" stroke-dasharray="4 3"/>')
    if len(points) > 1:
        out.append(f'<polyline class="spark-line" points="{_poly(points, sx, sy)}" fill="none" stroke="{stroke}" '
                   f'stroke-width="2"/>')
    out.extend(f'<circle cx="{sx(x)}" cy="{sy(y)}" r="2.5" fill="{stroke}"/>' for x, y in points)
    out.append("</svg>")
    return "".join(out)


__all__ = ["LAMP_COLOURS", "LAMP_ZH", "WIDGET_CSS", "lamp", "lamp_colour", "progress_bar", "sparkline"]
