"""A page in headless Chromium over the DevTools protocol: where elements are drawn, and a screenshot of it.

So a browser test can check that something is visible (its box on the screen, the pixels in that box), not
only present in the DOM. Chromium runs the page as any browser would; the page itself needs no script.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

_BOXES = """JSON.stringify(Object.fromEntries(%s.map(s => { const el = document.querySelector(s);
  if (!el) return [s, null]; const r = el.getBoundingClientRect(); const st = getComputedStyle(el);
  return [s, [r.left, r.top, r.width, r.height, st.visibility, st.display]]; })))"""


def boxes_and_screenshot(chromium: str, url: str, profile: Path, selectors: list[str], out: Path,
                         width: int = 1280, height: int = 2400, timeout_s: float = 60) -> dict[str, Any]:
    """Open ``url``, return each selector's [left, top, width, height, visibility, display] (None when absent)
    in screenshot pixels, and save the screenshot of the window to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--no-first-run", "--force-device-scale-factor=1", f"--user-data-dir={profile}",
                             "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json() if t["type"] == "page"]
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout_s) as ws:
            ids = iter(range(1, 1000))

            def call(method: str, **params: object) -> dict[str, Any]:
                n = next(ids)
                ws.send(json.dumps({"id": n, "method": method, "params": params}))
                while True:
                    msg = json.loads(ws.recv(timeout=timeout_s))
                    if msg.get("id") == n:
                        assert "error" not in msg, msg
                        return msg["result"]  # type: ignore[no-any-return]

            call("Page.enable")
            call("Page.navigate", url=url)
            while json.loads(ws.recv(timeout=timeout_s)).get("method") != "Page.loadEventFired":
                pass
            expr = _BOXES % json.dumps(selectors)
            got = call("Runtime.evaluate", expression=expr, returnByValue=True)
            boxes: dict[str, Any] = json.loads(got["result"]["value"])
            shot = call("Page.captureScreenshot", format="png")
            out.write_bytes(base64.b64decode(shot["data"]))
        return boxes
    finally:
        proc.terminate()
        proc.wait(timeout=30)
