"""The board's HTML pieces (services/evaluator/api/widgets.py): what a screen reader and an official read of them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from services.evaluator.api.widgets import LAMP_ZH, lamp, lamp_colour, progress_bar, sparkline
from services.evaluator.domain.evaluation import STATUS_ZH, Status


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of a fragment (which must parse)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def one(self, cls: str) -> dict[str, str | None]:
        found = [a for _, a in self.tags if cls in (a.get("class") or "").split()]
        assert len(found) == 1, f"{len(found)} elements of class {cls!r}"
        return found[0]

    def bar(self) -> dict[str, str | None]:
        found = [a for _, a in self.tags if a.get("role") == "progressbar"]
        assert len(found) == 1, f"{len(found)} progressbars"
        return found[0]


def _style(attrs: dict[str, str | None], prop: str) -> float:
    m = re.search(rf"(?:^|;){prop}:(-?[0-9.]+)%", attrs.get("style") or "")
    assert m, f"no {prop} in {attrs.get('style')!r}"
    return float(m.group(1))


def test_the_bar_is_a_progressbar_with_its_values_and_a_chinese_label() -> None:
    page = Tags(progress_bar(62.5, label="规上工业增加值完成率", value_text="完成率62.5%，序时进度66.7%",
                             mark=66.7))
    bar = page.bar()
    assert bar["aria-valuenow"] == "62.5" and bar["aria-valuemin"] == "0" and bar["aria-valuemax"] == "100"
    assert bar["aria-label"] == "规上工业增加值完成率" and bar["aria-valuetext"] == "完成率62.5%，序时进度66.7%"
    fill = page.one("pbar-fill")
    assert _style(fill, "left") == 0 and _style(fill, "width") == 62.5


def test_the_mark_sits_where_the_expected_progress_is() -> None:
    page = Tags(progress_bar(40, label="完成率", value_text="40%", mark=75, mark_label="序时进度75%"))
    mark = page.one("pbar-mark")
    assert _style(mark, "left") == 75 and mark["title"] == "序时进度75%"
    assert not [a for _, a in page.tags if "pbar-mark" in (a.get("class") or "")][1:]
    # No mark asked for: none drawn.
    assert "pbar-mark" not in progress_bar(40, label="完成率", value_text="40%")


def test_a_value_or_mark_beyond_the_range_widens_the_bar_and_nothing_is_drawn_outside_it() -> None:
    over = Tags(progress_bar(130, label="完成率", value_text="130%", mark=50))
    bar = over.bar()
    assert bar["aria-valuenow"] == "130" and bar["aria-valuemax"] == "130"
    assert _style(over.one("pbar-fill"), "width") == 100
    assert _style(over.one("pbar-mark"), "left") == pytest.approx(38.46, abs=0.01)  # 50 of 130
    # The mark past the maximum: the bar reaches to it, the mark at its right end.
    ahead = Tags(progress_bar(60, label="完成率", value_text="60%", mark=120))
    assert ahead.bar()["aria-valuemax"] == "120" and _style(ahead.one("pbar-mark"), "left") == 100
    assert _style(ahead.one("pbar-fill"), "width") == 50
    # A band reaching past both ends is cut at the bar's edges.
    band = Tags(progress_bar(50, label="增速", value_text="5%", band=(-20, 150))).one("pbar-band")
    assert _style(band, "left") == 0 and _style(band, "width") == 100


def test_a_negative_value_draws_from_zero_leftwards_with_the_zero_line() -> None:
    page = Tags(progress_bar(-2, label="增速", value_text="-2%", minimum=0, maximum=8))
    bar = page.bar()
    assert bar["aria-valuenow"] == "-2" and bar["aria-valuemin"] == "-2" and bar["aria-valuemax"] == "8"
    fill, zero = page.one("pbar-fill"), page.one("pbar-zero")
    assert _style(zero, "left") == 20 and _style(fill, "left") == 0 and _style(fill, "width") == 20
    assert "pbar-zero" not in progress_bar(3, label="增速", value_text="3%", maximum=8)


def test_an_empty_range_is_refused() -> None:
    with pytest.raises(ValueError, match="maximum must be above minimum"):
        progress_bar(0, label="完成率", value_text="0%", minimum=0, maximum=0)


@pytest.mark.parametrize(("status", "severity", "colour"), [
    ("on_track", None, "green"), ("ahead", None, "green"), ("behind", None, "yellow"), ("at_risk", None, "yellow"),
    ("far_behind", None, "red"), ("breached", None, "red"), ("missed", "warning", "yellow"),
    ("not_evaluated", None, "grey"), ("not_started", "ok", "grey"), (None, None, "grey"),
])
def test_the_lamp_has_its_status_text_beside_the_colour(status: str | None, severity: str | None,
                                                        colour: str) -> None:
    assert lamp_colour(status, severity) == colour
    page = Tags(lamp(status, severity))
    text = STATUS_ZH[Status(status)] if status else "暂无数据"
    assert "".join(page.text) == text  # the words, not only the colour
    outer = page.one("lamp")
    assert outer["data-lamp"] == colour and f"lamp-{colour}" in (outer["class"] or "")
    assert outer["title"] == f"{LAMP_ZH[colour]}：{text}"
    assert page.one("lamp-dot")["aria-hidden"] == "true"


def test_an_unknown_status_is_refused_not_shown_as_grey() -> None:
    with pytest.raises(ValueError):
        lamp("exploded")


def test_every_text_is_escaped() -> None:
    nasty = '<script>alert("x")</script>&'
    html = progress_bar(10, label=nasty, value_text=nasty, mark=20, mark_label=nasty, caption=nasty,
                        colour='green" onmouseover="x')
    assert "<script" not in html and 'onmouseover="x"' not in html
    page = Tags(html)
    assert page.bar()["aria-label"] == nasty and page.bar()["aria-valuetext"] == nasty
    assert page.one("pbar-mark")["title"] == nasty and "".join(page.text) == nasty
    svg = sparkline([(1, 2.0), (2, 3.0)], uid='a"b', title=nasty, desc=nasty)
    assert "<script" not in svg and 'id="a"b' not in svg
    assert "<script" not in sparkline([], uid="u", title=nasty, desc="")


def test_the_sparkline_says_what_it_shows_and_notes_missing_data() -> None:
    page = Tags(sparkline([(3, 5.3), (6, 5.1)], uid="gdp", title="地区生产总值增长", desc="一季度5.3%，上半年5.1%",
                          path=[(0, 5.0), (12, 5.0)], projection=(12, 4.9)))
    svg = next(a for t, a in page.tags if t == "svg")
    assert svg["role"] == "img" and svg["aria-labelledby"] == "gdp-t gdp-d"
    assert "地区生产总值增长" in page.text and "一季度5.3%，上半年5.1%" in page.text
    assert sum(1 for t, _ in page.tags if t == "circle") == 2
    assert Tags(sparkline([], uid="x", title="城镇新增就业", desc="")).text == ["城镇新增就业：暂无数据"]
