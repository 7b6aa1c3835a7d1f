"""A page in headless Chromium over the DevTools protocol: where elements are drawn, a screenshot of it, and
the few interactions a person has with a page (type, pick a file, click), so that a browser test can check
what is visible (an element's box on the screen, the pixels in that box), not only what is in the DOM.

Chromium runs the page as any browser would: its scripts, its Content-Security-Policy, its sessionStorage.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

_BOXES = """JSON.stringify(Object.fromEntries(%s.map(s => { const el = document.querySelector(s);
  if (!el) return [s, null]; const r = el.getBoundingClientRect(); const st = getComputedStyle(el);
  return [s, [r.left, r.top, r.width, r.height, st.visibility, st.display]]; })))"""


class Page:
    """One tab of a running Chromium, driven over its DevTools websocket."""

    def __init__(self, ws: ClientConnection, timeout_s: float) -> None:
        self._ws, self._timeout_s = ws, timeout_s
        self._ids = iter(range(1, 1_000_000))
        self._events: list[dict[str, Any]] = []  # events that arrived while waiting for a reply
        self.console: list[str] = []  # what the page's scripts logged, and its errors (CSP refusals included)

    def _recv(self) -> dict[str, Any]:
        msg: dict[str, Any] = json.loads(self._ws.recv(timeout=self._timeout_s))
        if msg.get("method") == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))
        elif msg.get("method") == "Runtime.exceptionThrown":
            self.console.append("exception: " + json.dumps(msg["params"]["exceptionDetails"], ensure_ascii=False))
        elif msg.get("method") == "Log.entryAdded":
            self.console.append(f"{msg['params']['entry']['level']}: {msg['params']['entry']['text']}")
        return msg

    def call(self, method: str, **params: object) -> dict[str, Any]:
        """Send a DevTools command and return its result (an error reply fails the test)."""
        n = next(self._ids)
        self._ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            msg = self._recv()
            if msg.get("id") == n:
                assert "error" not in msg, (method, msg)
                return msg["result"]  # type: ignore[no-any-return]
            if "method" in msg:
                self._events.append(msg)

    def _event(self, method: str) -> dict[str, Any]:
        for i, e in enumerate(self._events):
            if e["method"] == method:
                return self._events.pop(i)
        while True:
            msg = self._recv()
            if msg.get("method") == method:
                return msg

    def open(self, url: str) -> None:
        """Navigate and wait until the page has loaded."""
        self._events = [e for e in self._events if e["method"] != "Page.loadEventFired"]
        self.call("Page.navigate", url=url)
        self._event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        got = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in got, got["exceptionDetails"]
        return got["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float = 30) -> Any:
        """Poll until ``expression`` is truthy in the page; return its value."""
        deadline = time.monotonic() + timeout_s
        while not (value := self.evaluate(expression)):
            assert time.monotonic() < deadline, f"not true after {timeout_s}s: {expression}\nconsole: {self.console}"
            time.sleep(0.05)
        return value

    def type(self, selector: str, text: str) -> None:
        """Focus the field and type ``text`` into it as keyboard input."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def click(self, selector: str) -> None:
        """Click the middle of the element, as a mouse would (it must be visible and enabled to react)."""
        left, top, w, h, _, _ = self.boxes([selector])[selector]
        x, y = left + w / 2, top + h / 2
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def set_files(self, selector: str, paths: list[Path]) -> None:
        """Pick files in an ``<input type=file>``, as the file chooser would (its change event fires)."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        assert node, f"no {selector}"
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(p) for p in paths])

    def boxes(self, selectors: list[str]) -> dict[str, Any]:
        """Each selector's [left, top, width, height, visibility, display] in CSS pixels (None when absent)."""
        return json.loads(self.evaluate(_BOXES % json.dumps(selectors)))  # type: ignore[no-any-return]

    def screenshot(self, out: Path, *, full_page: bool = False) -> Path:
        """Save the window as it is drawn now (``full_page``: the whole document, however long)."""
        out.parent.mkdir(parents=True, exist_ok=True)
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            w, h = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
        out.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))
        return out


@contextmanager
def chromium_page(chromium: str, profile: Path, width: int = 1280, height: int = 2400,
                  timeout_s: float = 60) -> Iterator[Page]:
    """A headless Chromium with one tab, closed on exit. The window is ``width`` × ``height`` at scale 1, so
    CSS pixels are screenshot pixels."""
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             "--no-first-run", "--force-device-scale-factor=1", "--lang=zh-CN",
                             f"--user-data-dir={profile}",
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
            page = Page(ws, timeout_s)
            for domain in ("Page", "Runtime", "Log"):
                page.call(f"{domain}.enable")
            yield page
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def boxes_and_screenshot(chromium: str, url: str, profile: Path, selectors: list[str], out: Path,
                         width: int = 1280, height: int = 2400, timeout_s: float = 60) -> dict[str, Any]:
    """Open ``url``, return each selector's [left, top, width, height, visibility, display] (None when absent)
    in screenshot pixels, and save the screenshot of the window to ``out``."""
    with chromium_page(chromium, profile, width, height, timeout_s) as page:
        page.open(url)
        boxes = page.boxes(selectors)
        page.screenshot(out)
        return boxes
