"""The browser page for bureaus (``GET /upload``): pick a file, check it (a dry run), see every problem by row
and column, then store it.

The page is one static document (upload.html) that calls the same API as every other client
(``POST /v1/observations/upload``, ``/v1/keys/me``, ``/v1/templates.*``) with the API key the person enters
once: it is kept in the tab's sessionStorage only, so closing the tab forgets it, and no cookie is ever set
(a cookie would make every write route answer to cross-site requests). Storing sends an ``Idempotency-Key``
chosen at the check, so a second click or a retried request stores nothing twice.

The page's script and style sheet are inline and allowed by their hashes in a strict Content-Security-Policy:
no other script can run on the page, and it can talk to no other origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["pages"])

PAGE = files(__package__).joinpath("upload.html").read_text(encoding="utf-8")


def _hashes(tag: str) -> str:
    """CSP source expressions for every inline ``<tag>`` element of the page."""
    bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", PAGE, re.S)
    assert bodies, f"upload.html has no <{tag}>"
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in bodies)


CSP = (f"default-src 'none'; script-src {_hashes('script')}; style-src {_hashes('style')}; connect-src 'self'; "
       "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


@router.get("/upload", response_class=HTMLResponse, summary="The upload page for bureaus (HTML, Chinese)",
            responses={200: {"content": {"text/html": {}}, "description": "The page"}})
def upload_page() -> HTMLResponse:
    """Check and store an Excel or CSV file in a browser, with the organisation's API key."""
    return HTMLResponse(PAGE, headers=_HEADERS)
