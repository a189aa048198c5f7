"""`python -m apps.demo` in a real browser (Debian's chromium through Playwright): upload an
image, type an expression, press Segment, see the mask; click a point of the result, see its
attention row; click an example, see it run. Saves test-artifacts/demo.png.

Runs the bundled model when present (the screenshot then shows the real thing), else an
untrained tiny one on the tiny SynthRef pool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, chromium_available, free_port, stop, wait_for_http

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "assets" / "examples"
SHOT = REPO / "test-artifacts" / "demo.png"
BUNDLED = REPO / "assets" / "checkpoints" / "full"
BASELINE_LABEL = "baseline (no RES, no high-res path)"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="chromium or playwright not installed"),
]


@pytest.fixture(scope="module")
def server(tiny_synthref, tmp_path_factory):
    """The demo as the README and the Procfile start it, on a free port, with a temporary
    folder of its own (``.tmp``) and its process (``.proc``)."""
    port = free_port()
    args = [sys.executable, "-m", "apps.demo", "--host", "127.0.0.1"]
    if not ((BUNDLED / "config.json").is_file() and (REPO / "assets" / "pool").is_dir()):
        from test_demo import tiny_checkpoints

        ckpts = tiny_checkpoints(tmp_path_factory.mktemp("ckpt"), tiny_synthref["refer"])
        args += ["--checkpoint", str(ckpts / "full"), "--pool", str(tiny_synthref["pool"])]
        args += ["--pool-images", str(tiny_synthref["data"] / "images"), "--device", "cpu"]
    tmp = tmp_path_factory.mktemp("tmpdir")
    env = {**os.environ, "PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "TMPDIR": str(tmp)}
    log = tmp_path_factory.mktemp("log") / "demo.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(url, timeout_s=120, proc=proc)
        yield SimpleNamespace(url=url, proc=proc, tmp=tmp)
    except (TimeoutError, RuntimeError) as e:
        raise RuntimeError(f"{e}\n--- demo log ---\n{log.read_text()[-3000:]}") from e
    finally:
        stop(proc)


def test_upload_type_segment_and_inspect_in_a_browser(server):
    from playwright.sync_api import expect, sync_playwright

    examples = json.loads((EXAMPLES / "examples.json").read_text())
    image, expression = EXAMPLES / examples[1]["image"], examples[1]["expression"]
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.set_default_timeout(120_000)  # an upper bound: CI cores may be busy
            page.goto(server.url, wait_until="domcontentloaded")
            status = page.locator("#status")
            expect(page.locator("#model-note")).to_contain_text("Model:")

            # upload, type, click
            page.locator("#input-image input[type=file]").set_input_files(str(image))
            expect(page.locator("#input-image img")).to_be_visible()
            page.locator("#expression textarea").fill(expression)
            page.locator("#segment").click()
            expect(status).to_contain_text("Mask:")
            result = page.locator("#result img")
            expect(result).to_be_visible()
            expect(page.locator("#neighbour img")).to_be_visible()
            expect(page.locator("#a2 img")).to_be_visible()
            expect(page.locator("#latency")).to_contain_text("total")
            expect(page.locator("#candidates")).to_contain_text("retrieved")
            first_src = result.get_attribute("src")

            # a point of the result: the attention caption switches to that point
            box = result.bounding_box()
            result.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
            expect(page.locator("#attention-caption")).to_contain_text("clicked point")
            page.wait_for_timeout(500)  # let the redrawn images settle for the screenshot
            page.screenshot(path=str(SHOT), full_page=True)

            # another candidate (a row of the table) re-runs with that neighbour
            page.locator("#candidates [data-testid=cell-3-3]").click()
            expect(status).to_contain_text("chosen by you")
            expect(page.locator("#neighbour-caption")).to_contain_text("chosen by you")

            # the variant switch re-runs the same input (the tiny setup always has a baseline)
            if page.get_by_label(BASELINE_LABEL).count():
                page.get_by_label(BASELINE_LABEL).check()
                expect(status).to_contain_text("variant baseline")
                expect(page.locator("#attention-caption")).to_contain_text("no RES")

            # an example runs on click
            page.locator("#examples tbody tr").first.click()
            expect(page.locator("#expression textarea")).to_have_value(examples[0]["expression"])
            expect(result).not_to_have_attribute("src", first_src or "")
            expect(status).to_contain_text("Mask:")
        except Exception:
            page.screenshot(path=str(SHOT.with_name("demo-failure.png")), full_page=True)
            raise
        finally:
            browser.close()
    assert SHOT.is_file() and SHOT.stat().st_size > 50_000


def test_sigterm_stops_the_server_and_removes_its_pictures(server):
    """A process manager (the Procfile's) stops the demo with SIGTERM: it exits with status 0
    and its atexit clean-up runs, so no folder of served pictures is left in TMPDIR."""
    assert list(server.tmp.glob("tvnet-demo-*")), "the demo keeps its pictures under TMPDIR"
    stop(server.proc)
    assert server.proc.returncode == 0
    assert not list(server.tmp.glob("tvnet-demo-*"))
