"""Real-browser helpers for UI tests: Debian's ``chromium`` driven by Playwright's sync API.

Shared by the dashboard and the demo tests; keep the API stable:

    from browser import chromium_available, screenshot, free_port, wait_for_http

    if not chromium_available():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    text = screenshot("http://127.0.0.1:8501", "test-artifacts/page.png", wait_text="45.95")

The system chromium is used (never ``playwright install``), headless, with every background
network feature off so a test never reaches outside the machine.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "chromium_available",
    "screenshot",
    "free_port",
    "wait_for_http",
]


def chromium_available() -> bool:
    """True when both ``/usr/bin/chromium`` and the ``playwright`` package are present."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


_GIVEN: set[int] = set()  # ports handed out by this process, never handed out twice


def _ephemeral_low() -> int:
    """The lowest port the kernel picks for outgoing connections and ``bind(0)``."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default range starts here


def free_port(lo: int = 20000, hi: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that is free right now, in [lo, hi) (by default below the
    kernel's ephemeral range, so that no outgoing connection, the browser's or an HTTP
    client's, can take it between this call and the server's own bind), and not one this
    process handed out before."""
    rng = random.Random()
    low = hi or min(_ephemeral_low(), 32768)
    if low <= lo:  # a kernel whose ephemeral range starts below 20000: take its pick
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    for _ in range(200):
        port = rng.randrange(lo, low)
        if port in _GIVEN:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    raise OSError(f"no free TCP port in [{lo}, {low}) on 127.0.0.1")


def stop(proc) -> None:
    """Terminate a server subprocess, killing it if it does not exit within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for_http(url: str, timeout_s: float = 120, proc=None) -> None:
    """Poll ``url`` until it answers HTTP 200; raise TimeoutError (or RuntimeError when the
    optional server ``proc`` — a ``subprocess.Popen`` — exits first)."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            last = e
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s (last error: {last})")


def screenshot(
    url: str, path: str | os.PathLike, wait_text: str | None = None, timeout_s: float = 120
) -> str:
    """Open ``url`` in headless chromium, wait for ``wait_text`` to appear on the page (when
    given) and for the page to settle, save a full-page PNG at ``path``, and return the page's
    visible text (``document.body.innerText``).

    Raises TimeoutError naming the text when it does not appear within ``timeout_s``; a
    screenshot of what the page showed instead is still saved at ``path``.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout_ms = int(timeout_s * 1000)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, timeout=timeout_ms, wait_until="domcontentloaded")
            if wait_text is not None:
                try:
                    page.get_by_text(wait_text, exact=False).first.wait_for(
                        state="visible", timeout=timeout_ms
                    )
                except PlaywrightTimeout as e:
                    page.screenshot(path=str(path), full_page=True)
                    raise TimeoutError(
                        f"{wait_text!r} did not appear on {url} within {timeout_s} s "
                        f"(screenshot of the page: {path})"
                    ) from e
            try:
                page.wait_for_load_state("networkidle", timeout=min(timeout_ms, 10_000))
            except PlaywrightTimeout:
                pass  # long-polling apps (websockets) may never go idle; the text is there
            page.screenshot(path=str(path), full_page=True)
            return page.evaluate("document.body.innerText")
        finally:
            browser.close()
