"""Bounding and cleaning text that comes from outside (a receiver's error body) before it is stored. Pure."""

from __future__ import annotations

import re

# NUL and the other C0 controls but tab and newline: PostgreSQL refuses NUL in text, and the rest only garbles
# the delivery log. A gzip or binary proxy page is full of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
ERROR_MAX_CHARS = 500


def clean(text: str | bytes | None, limit: int = ERROR_MAX_CHARS) -> str | None:
    """Text safe to store: decoded (bad bytes replaced), control characters shown as �, at most ``limit`` chars."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _CONTROL.sub("\ufffd", text)
    # Lone surrogates (from surrogateescape decoding) cannot be encoded for the database either.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"
