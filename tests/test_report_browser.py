"""The report in a real browser: headless Chromium opens it, with no console errors,
the pictures decode, the table sorts and filters, a screenshot shows the page,
and it prints to PDF.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
NUL-terminated JSON on file descriptors 3 and 4), so no port or extra package is
needed. The test skips, saying why, only when no Chromium can be found.
"""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

PIL = pytest.importorskip("PIL.Image", reason="Pillow (test extra) decodes the screenshot")

from test_report_build import built  # noqa: E402,F401  (fixture)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


class DevTools:
    """A minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, chromium: str, profile: Path):
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "--window-size=1280,2000",
            "about:blank",
        ]
        # The shell gives Chromium our stdin as fd 3 (commands) and stdout as fd 4
        # (replies); its own output goes to stderr.
        self.proc = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2', chromium, *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the debugging pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 60.0) -> dict:  # fmt: skip
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.proc.stdin.write(json.dumps(message).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def browser(tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium not found (Debian: apt-get install chromium; .ci/run installs it)")
    client = DevTools(chromium, tmp_path / "chromium-profile")
    try:
        yield client
    finally:
        client.close()


def open_page(client: DevTools, url: str, *, scripts: bool = True) -> str:
    target = client.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = client.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page.enable", "Runtime.enable", "Log.enable"):
        client.call(domain, session=session)
    if not scripts:
        client.call("Emulation.setScriptExecutionDisabled", {"value": True}, session=session)
    client.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    client.events.clear()
    client.call("Page.navigate", {"url": url}, session=session)
    client.wait_for("Page.loadEventFired")
    return session


def evaluate(client: DevTools, session: str, expression: str):
    result = client.call(
        "Runtime.evaluate",
        {"expression": expression, "returnByValue": True, "awaitPromise": True},
        session=session,
    )
    assert "exceptionDetails" not in result, result
    return result["result"].get("value")


def problems(client: DevTools) -> list[str]:
    """Console errors, uncaught exceptions, error log entries (CSP, failed loads), dialogs."""
    found = []
    for event in client.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(f"log: {params['entry'].get('text')}")
        elif method == "Page.javascriptDialogOpening":
            found.append(f"dialog: {params.get('message')}")
    return found


@pytest.mark.slow
def test_report_in_headless_chromium(browser, built, tmp_path):  # noqa: F811
    summary = built.summary
    session = open_page(browser, built.html.as_uri())

    # Every picture was decoded by the browser at its full size.
    images = evaluate(
        browser,
        session,
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])",
    )
    assert len(images) == 3 * summary.drawn
    assert all(image == [True, 400, 320] for image in images)

    # The page's own script ran (controls shown) and the hostile names did not.
    assert evaluate(browser, session, "document.getElementById('controls').hidden") is False
    assert evaluate(browser, session, "document.querySelectorAll('script').length") == 1

    # Filtering by text and by verdict hides rows; sorting reorders them.
    visible = (
        "Array.from(document.querySelectorAll('#flagged-table tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.cells[0].textContent)"
    )
    assert evaluate(browser, session, visible) == ["1", "2", "3", "4"]
    evaluate(
        browser,
        session,
        "const f = document.getElementById('filter'); f.value = 'cavity_block';"
        "f.dispatchEvent(new Event('input'));",
    )
    assert len(evaluate(browser, session, visible)) == 1
    evaluate(
        browser,
        session,
        "const g = document.getElementById('filter'); g.value = '';"
        "g.dispatchEvent(new Event('input'));"
        "const v = document.getElementById('verdict-filter'); v.value = 'review';"
        "v.dispatchEvent(new Event('change'));",
    )
    assert len(evaluate(browser, session, visible)) == 2
    evaluate(
        browser,
        session,
        "const w = document.getElementById('verdict-filter'); w.value = '';"
        "w.dispatchEvent(new Event('change'));"
        "document.querySelectorAll('#flagged-table th button')[2].click();",  # score, ascending
    )
    scores = evaluate(
        browser,
        session,
        "Array.from(document.querySelectorAll('#flagged-table tbody tr'))"
        ".map(r => parseFloat(r.cells[2].dataset.v))",
    )
    assert scores == sorted(scores) and len(scores) == 4

    # A screenshot with real content: not blank, and the pictures' blue-grey is on it.
    shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
    png = base64.b64decode(shot["data"])
    (tmp_path / "screenshot.png").write_bytes(png)
    pixels = np.asarray(PIL.open(io.BytesIO(png)).convert("RGB"))
    assert pixels.shape[:2] == (2000, 1280)
    assert (pixels != 255).any(axis=-1).mean() > 0.05
    assert len(np.unique(pixels.reshape(-1, 3)[::97], axis=0)) > 50

    # It prints (the print stylesheet puts each card on its own page).
    pdf = base64.b64decode(
        browser.call("Page.printToPDF", {"printBackground": True}, session=session)["data"]
    )
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000

    assert problems(browser) == []


@pytest.mark.slow
def test_report_reads_without_javascript(browser, built):  # noqa: F811
    summary = built.summary
    session = open_page(browser, built.html.as_uri(), scripts=False)
    # Without the script the controls stay hidden and every row and picture is there.
    assert evaluate(browser, session, "document.getElementById('controls').hidden") is True
    assert evaluate(browser, session, "document.querySelectorAll('th.sortable').length") == 0
    rows = "document.querySelectorAll('#flagged-table tbody tr:not([hidden])').length"
    assert evaluate(browser, session, rows) == summary.flagged
    images = evaluate(
        browser, session, "Array.from(document.images).filter(i => i.naturalWidth === 400).length"
    )
    assert images == 3 * summary.drawn
    assert evaluate(browser, session, "document.querySelectorAll('article.card').length") == 4
    assert problems(browser) == []
