"""Time the dashboard's first view in a real browser (headless Chromium driven by Playwright).

    .venv/bin/python benchmarks/dashboard_browser.py                  # assets/dumps, 3 cold starts
    .venv/bin/python benchmarks/dashboard_browser.py --dumps DIR --cold 5 --warm 5
    .venv/bin/python benchmarks/dashboard_browser.py --page "Failure cases" --wait-text "Samples"

Goal (issue 24): the first view ≤ 2 s on 2 cores, cold. Each *cold* run starts a new
``streamlit run apps/dashboard/app.py`` server (its own process, caches empty), waits until
it answers its health check, opens a browser, and times from the navigation to

- ``content``: the first page's content visible (``--wait-text``, by default the first Table 1
  heading, then ``--wait-selector``, by default a cell of the first table), and
- ``complete``: the script run finished (``stApp`` reports ``notRunning``), no element still
  shows its loading placeholder (``stSkeleton``) and every plotly chart has drawn its SVG;

then the same page is loaded ``--warm`` times more in new browser tabs on the same server
(caches filled). The browser is started before the clock starts: its own start-up is not the
dashboard's. Prints the CPU model, the cores this process may use, the figures (median, min,
max over the runs; timer resolution ≪ 1 ms, run-to-run spread is the precision), and where
the server said the time went when ``TVNET_DASH_PROFILE=1`` is set (see apps/dashboard/app.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser import CHROMIUM, CHROMIUM_ARGS, free_port, stop, wait_for_http  # noqa: E402
from machine import cpu_model  # noqa: E402  (benchmarks/machine.py: scripts run from here)

APP = REPO / "apps" / "dashboard" / "app.py"
# --floor: the least a Streamlit page costs here (a heading and a 2×2 table), timed the same way
FLOOR_APP = """import streamlit as st
st.title("Table 1 — floor")
st.table({"a": [1.0, 2.0], "b": [3.0, 4.0]})
"""


def start_server(app: Path, dumps: Path, port: int, page: str | None) -> subprocess.Popen:
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd += ["--", "--dumps", str(dumps)]
    if page:
        cmd += ["--page", page]
    return subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def time_view(
    browser, url: str, wait_text: str, wait_selector: str, timeout_s: float, shot: Path | None
):
    """(seconds to ``wait_text`` and then ``wait_selector`` visible, seconds to the run
    complete: every element drawn, no placeholder left, every plotly chart drawn)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.get_by_text(wait_text, exact=False).first.wait_for(
            state="visible", timeout=timeout_s * 1000
        )
        if wait_selector:
            page.locator(wait_selector).first.wait_for(state="visible", timeout=timeout_s * 1000)
        content = time.perf_counter() - t0
        page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                if (!app || app.getAttribute('data-test-script-state') !== 'notRunning')
                    return false;
                if (document.querySelector('[data-testid="stSkeleton"]')) return false;
                const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
                return charts.every(c => c.querySelector('.main-svg'));
            }""",
            timeout=timeout_s * 1000,
            polling=20,
        )
        complete = time.perf_counter() - t0
        if shot is not None:
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        return content, complete
    finally:
        page.close()


def summary(xs: list[float]) -> str:
    if not xs:
        return "–"
    return (
        f"median {statistics.median(xs):6.2f} s  min {min(xs):6.2f}  max {max(xs):6.2f}"
        f"  (n={len(xs)})"
    )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dumps", type=Path, default=REPO / "assets" / "dumps")
    p.add_argument("--cold", type=int, default=3, help="server starts (one cold view each)")
    p.add_argument("--warm", type=int, default=3, help="warm views after each cold one")
    p.add_argument("--page", help="the page to open (default: the overview)")
    p.add_argument("--wait-text", default="Table 1 —", help="text that marks the content")
    p.add_argument(
        "--wait-selector",
        default='[data-testid="stTable"] td',
        help="then this element (CSS; '' for none): by default the first table's first cell",
    )
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument(
        "--app",
        type=Path,
        default=APP,
        help="the Streamlit script (another one, e.g. a one-line st.title, gives the floor)",
    )
    p.add_argument(
        "--floor",
        action="store_true",
        help="time a one-table Streamlit page instead: what any page costs on this machine",
    )
    p.add_argument("--shot", type=Path, help="save a full-page screenshot of the first view")
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    if args.floor:
        import tempfile

        floor_dir = tempfile.mkdtemp(prefix="dash-floor-")
        args.app = Path(floor_dir) / "floor.py"
        args.app.write_text(FLOOR_APP)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import streamlit

    print(f"cpu: {cpu_model()}, {cores} core(s) usable; streamlit {streamlit.__version__}")
    print("load average at start (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"app: {args.app}  dumps: {args.dumps}  page: {args.page or 'Overview'}")
    print(f"content = {args.wait_text!r} then {args.wait_selector!r} visible")
    cold_c, cold_t, warm_c, warm_t = [], [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for k in range(args.cold):
                port = free_port()
                proc = start_server(args.app, args.dumps, port, args.page)
                try:
                    url = f"http://127.0.0.1:{port}"
                    wait_for_http(f"{url}/_stcore/health", timeout_s=args.timeout, proc=proc)
                    time.sleep(0.5)  # let the server settle: time the page, not the start-up
                    shot = args.shot if k == 0 else None
                    c, t = time_view(
                        browser, url, args.wait_text, args.wait_selector, args.timeout, shot
                    )
                    cold_c.append(c)
                    cold_t.append(t)
                    print(f"cold {k + 1}: content {c:5.2f} s, complete {t:5.2f} s", flush=True)
                    for _ in range(args.warm):
                        c, t = time_view(
                            browser, url, args.wait_text, args.wait_selector, args.timeout, None
                        )
                        warm_c.append(c)
                        warm_t.append(t)
                finally:
                    stop(proc)
                    out = proc.stdout.read() if proc.stdout else ""
                    if proc.stdout:
                        proc.stdout.close()
                    prof = [ln for ln in out.splitlines() if ln.startswith("[dash-profile]")]
                    if prof and k == 0:
                        print("\n".join(prof[:12]))
        finally:
            browser.close()
    print("load average at end (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"cold, content visible:   {summary(cold_c)}   goal ≤ 2 s")
    print(f"cold, run complete:      {summary(cold_t)}")
    print(f"warm, content visible:   {summary(warm_c)}")
    print(f"warm, run complete:      {summary(warm_t)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
