"""Look at a screenshot's pixels, so a browser test fails on a blank or unstyled page.

The share of pixel rows with something drawn on them (text, borders, badges), and whether a colour of the
page's style sheet appears (a status badge's background: absent when the style sheet was not applied).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def drawn_share(png: Path) -> float:
    """The share of pixel rows that are not one flat colour."""
    with Image.open(png) as im:
        rgb = im.convert("RGB")
        width, height = rgb.size
        # A row is flat when its extremes are equal in every band: one crop per row is fast enough.
        drawn = sum(1 for y in range(height)
                    if any(lo != hi for lo, hi in rgb.crop((0, y, width, y + 1)).getextrema()))
    return drawn / height


def has_colour(png: Path, colour: tuple[int, int, int]) -> bool:
    """Whether this exact colour fills some pixels (Chromium draws flat CSS backgrounds exactly)."""
    with Image.open(png) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return any(c == colour for _, c in colours)


def colours_in(png: Path, box: tuple[float, float, float, float]) -> set[tuple[int, int, int]]:
    """The distinct colours inside a box (left, top, width, height) of the picture."""
    left, top, w, h = (round(v) for v in box)
    with Image.open(png) as im:
        region = im.convert("RGB").crop((left, top, left + w, top + h))
        return {c for _, c in region.getcolors(maxcolors=1 << 24) or []}


def size_of(png: Path) -> tuple[int, int]:
    """The picture's width and height in pixels."""
    with Image.open(png) as im:
        return im.size
