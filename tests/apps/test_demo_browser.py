"""`python -m apps.demo` in a real browser (Debian's chromium through Playwright): upload an
image, type an expression, press Segment, see the mask; click a point of the result, see its
attention row; choose another neighbour and keep it across a variant switch; click an
example, see it run; a photo's answer leads with its warnings (no ✔); every heat map has a
colour bar with its range, the gates are drawn whole with their levels; the influence of the
neighbour, of each candidate and of each word; a new input marks the result stale. Saves
test-artifacts/demo.png, demo-warning.png, demo-maps.png and demo-stale.png.

Runs the bundled model when present (the screenshots then show the real thing), else an
untrained tiny one on the tiny SynthRef pool.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS, chromium_available, free_port, stop, wait_for_http

from tvnet import default_checkpoint

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "assets" / "examples"
SHOT = REPO / "test-artifacts" / "demo.png"
BUNDLED = default_checkpoint()  # what the demo loads without --checkpoint
SYNTH_TICK = 0  # the examples.json row (a SynthRef test scene) the bundled model is sure of
BASELINE_LABEL = "baseline (no RES, no high-res path)"
FULL_LABEL = "TV-Net (+RES +AMF)"


def _expect_timeout() -> None:
    """Playwright's ``expect`` waits 5 s by default, whatever the page's timeout: a first
    answer on busy CI cores can take longer, so its assertions get the same upper bound."""
    from playwright.sync_api import expect

    expect.set_options(timeout=120_000)


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="chromium or playwright not installed"),
]


@pytest.fixture(scope="module")
def server(tiny_synthref, tmp_path_factory):
    """The demo as the README and the Procfile start it, on a free port, with a temporary
    folder of its own (``.tmp``) and its process (``.proc``)."""
    _expect_timeout()
    port = free_port()
    args = [sys.executable, "-m", "apps.demo", "--host", "127.0.0.1"]
    if not bundled():
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
            in_view(page, "#neighbour img")
            in_view(page, "#a2 img")
            expect(page.locator("#latency")).to_contain_text("total")
            expect(page.locator("#candidates")).to_contain_text("retrieved")
            first_src = result.get_attribute("src")

            # a point of the result: the attention caption switches to that point
            box = result.bounding_box()
            result.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
            expect(page.locator("#attention-caption")).to_contain_text("clicked point")
            # and a point of the upload itself, the one the answer is of: its own row
            caption = page.locator("#attention-caption").inner_text()
            upload = page.locator("#input-image img")
            box = upload.bounding_box()
            upload.click(position={"x": box["width"] * 0.7, "y": box["height"] * 0.3})
            expect(page.locator("#attention-caption")).not_to_have_text(caption)
            expect(page.locator("#attention-caption")).to_contain_text("clicked point")
            page.wait_for_timeout(500)  # let the redrawn images settle for the screenshot
            page.screenshot(path=str(SHOT), full_page=True)

            # another candidate (a row of the table) re-runs with that neighbour: the one
            # whose pool entry the clicked row shows (its last column)
            shown = page.locator("#candidates [data-testid=cell-3-6]").inner_text().strip()
            page.locator("#candidates [data-testid=cell-3-3]").click()
            expect(status).to_contain_text("chosen by you")
            expect(page.locator("#neighbour-caption")).to_contain_text("chosen by you")

            chosen = re.search(r"pool entry (\d+)", page.locator("#neighbour-caption").inner_text())
            assert chosen, page.locator("#neighbour-caption").inner_text()
            assert chosen[1] == shown, (chosen[1], shown)

            # the variant switch re-runs the same input (the tiny setup always has a baseline)
            expect(page.get_by_label(BASELINE_LABEL)).to_have_count(1)
            page.get_by_label(BASELINE_LABEL).check()
            expect(status).to_contain_text("variant baseline")
            expect(page.locator("#attention-caption")).to_contain_text("no RES")
            # the page says the chosen neighbour is kept, and the way back uses it again
            expect(status).to_contain_text(f"chosen neighbour (pool entry {chosen[1]}) is kept")
            page.get_by_label(FULL_LABEL).check()
            expect(status).to_contain_text("variant full")
            expect(status).to_contain_text("chosen by you")
            expect(page.locator("#neighbour-caption")).to_contain_text(f"pool entry {chosen[1]} ")

            # the mirror switch re-runs the same input, averaged with the mirror image's, the
            # chosen neighbour kept; switched off again, the single answer comes back
            page.locator("#mirror input[type=checkbox]").check()
            expect(status).to_contain_text("mirror averaged")
            expect(status).to_contain_text("chosen by you")
            expect(page.locator("#latency")).to_contain_text("mirror pass")
            page.locator("#mirror input[type=checkbox]").uncheck()
            expect(status).not_to_contain_text("mirror averaged")
            expect(status).to_contain_text("variant full")

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


def open_page(p, url: str):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(120_000)  # an upper bound: CI cores may be busy
    page.goto(url, wait_until="domcontentloaded")
    return browser, page


def segment_in(page, image: Path, expression: str) -> None:
    """Upload ``image``, type ``expression``, press Segment and wait for the fresh answer (a
    page that showed an answer first marks it stale: that mark must go)."""
    from playwright.sync_api import expect

    status = page.locator("#status")
    had_result = "Mask:" in status.inner_text()
    page.locator("#input-image input[type=file]").set_input_files(str(image))
    expect(page.locator("#input-image img")).to_be_visible()
    page.locator("#expression textarea").fill(expression)
    if had_result:
        expect(status).to_contain_text("Stale")
    page.locator("#segment").click()
    expect(status).not_to_contain_text("Stale")
    expect(status).to_contain_text("Mask:")


def in_view(page, selector: str) -> None:
    """Scroll to ``selector`` as a reader would, then expect it visible: Gradio's images load
    lazily (loading="lazy"), so one further than about 1,250 px below the window stays
    0 px wide until the page scrolls near it."""
    from playwright.sync_api import expect

    page.locator(selector).first.scroll_into_view_if_needed()
    expect(page.locator(selector)).to_be_visible()


def bundled() -> bool:
    return (BUNDLED / "config.json").is_file() and (REPO / "assets" / "pool").is_dir()


def test_a_photo_gets_its_warnings_first_and_no_tick(server):
    """ "the cat" on a photo: the verdict leads with the warnings, in sentences, before the
    mask's facts, and has no ✔; with the bundled model a SynthRef test scene with its own
    expression gets the ✔ and no warning."""
    from playwright.sync_api import expect, sync_playwright

    shot = SHOT.with_name("demo-warning.png")
    with sync_playwright() as p:
        browser, page = open_page(p, server.url)
        try:
            status = page.locator("#status")
            segment_in(page, EXAMPLES / "chelsea.jpg", "the cat")
            expect(status).to_contain_text("Check this answer")
            text = status.inner_text()
            assert "✔" not in text, text
            warnings = page.locator("#status li")
            assert warnings.count() >= 1
            first = warnings.first.inner_text()
            assert len(first.split()) >= 4, first  # a sentence, not a code
            assert text.index("Check this answer") < text.index(first) < text.index("Mask:")
            page.screenshot(path=str(shot), full_page=False)
            if bundled():
                row = json.loads((EXAMPLES / "examples.json").read_text())[SYNTH_TICK]
                segment_in(page, EXAMPLES / row["image"], row["expression"])
                assert (BUNDLED / "calibration.json").is_file()  # shipped: its ✔ is due
                expect(status).to_contain_text("✔")
                assert "Check this answer" not in status.inner_text()
        except Exception:
            page.screenshot(path=str(shot.with_name("demo-warning-failure.png")), full_page=True)
            raise
        finally:
            browser.close()


def test_colour_bars_whole_gates_and_the_influence_views(server):
    """Each heat map's caption has a colour bar whose ends are the map's range; the gates are
    drawn whole, each with its level; the neighbour's influence, the mask change of every
    candidate and the words view are there."""
    from playwright.sync_api import expect, sync_playwright

    shot = SHOT.with_name("demo-maps.png")
    row = json.loads((EXAMPLES / "examples.json").read_text())[1]
    with sync_playwright() as p:
        browser, page = open_page(p, server.url)
        try:
            segment_in(page, EXAMPLES / row["image"], row["expression"])
            for caption in ("#probability-caption", "#attention-caption", "#a2-caption"):
                bar = page.locator(f"{caption} .cbar")
                expect(bar).to_be_visible()
                exact = re.fullmatch(r"lowest (\S+), highest (\S+)", bar.get_attribute("title"))
                lo, hi = float(exact[1]), float(exact[2])
                assert lo <= hi, (caption, lo, hi)
                shown = [float(bar.locator(c).inner_text()) for c in (".cbar-lo", ".cbar-hi")]
                assert shown[0] == pytest.approx(lo, rel=0.01, abs=1e-6), (caption, shown, lo)
                assert shown[1] == pytest.approx(hi, rel=0.01, abs=1e-6), (caption, shown, hi)
                ramp = bar.locator(".cbar-ramp")
                assert "gradient" in ramp.evaluate("e => getComputedStyle(e).backgroundImage")
                assert ramp.bounding_box()["width"] > 50
            in_view(page, "#probability img")
            assert "p ≥ 0.5" in page.locator("#probability-caption").inner_text()

            # the gates: three whole pictures, each with its level in sight
            page.get_by_text("Enrichment gates σ(Conv(Vₗ)) of Eq. 2").click()
            page.get_by_label("Show the gates (channel mean, per level)").check()
            tiles = page.locator("#gates img")
            expect(tiles).to_have_count(3)
            gallery = page.locator("#gates").bounding_box()
            for i in range(3):
                tile = tiles.nth(i)
                expect(tile).to_be_visible()
                assert tile.evaluate("e => getComputedStyle(e).objectFit") == "contain"
                box = tile.bounding_box()
                assert box["x"] >= gallery["x"] - 1 and box["y"] >= gallery["y"] - 1
                assert box["x"] + box["width"] <= gallery["x"] + gallery["width"] + 1
                assert box["y"] + box["height"] <= gallery["y"] + gallery["height"] + 1
                expect(page.locator("#gates").get_by_text(f"level {i + 3}:")).to_be_visible()
            expect(page.locator("#gates-caption .cbar")).to_have_count(3)
            for i in range(3):
                expect(page.locator("#gates-caption .cbar").nth(i)).to_contain_text(
                    f"level {i + 3}"
                )

            # the neighbour's influence comes with every answer of a RES variant
            infl = page.locator("#influence-caption")
            expect(infl).to_contain_text("Enrichment with the neighbour changed")
            said = re.search(r"changed ([\d.]+) % of the mask", infl.inner_text())
            assert said, infl.inner_text()
            # the gate measures the enrichment path; which image is on it, the candidates say
            if float(said[1]) >= 1:
                expect(infl).to_contain_text("the enrichment shapes this answer")
                expect(infl).to_contain_text("What would each neighbour change?")
            else:
                expect(infl).to_contain_text("barely depends on the enrichment")
            in_view(page, "#influence img")

            # what each candidate would change: a column, on demand
            page.locator("#cand-influence").click()
            expect(page.locator("#candidates")).to_contain_text("mask change")
            expect(page.locator("#cand-influence-note")).to_contain_text("per candidate")

            # the words view: every word of the expression, shaded by its influence
            page.locator("#words-go").click()
            words = page.locator("#words .word")
            expect(words.first).to_be_visible()
            n = len(re.findall(r"[A-Za-z]+", row["expression"]))
            expect(words).to_have_count(n)
            for i in range(n):
                assert 0 <= float(words.nth(i).get_attribute("data-influence")) <= 1
            page.wait_for_timeout(500)  # let the pictures settle for the screenshot
            page.screenshot(path=str(shot), full_page=True)

            # a new answer's table has no mask-change column, and its note says so again
            page.locator("#segment").click()
            expect(page.locator("#cand-influence-note")).to_contain_text("Runs the model once")
            expect(page.locator("#candidates")).not_to_contain_text("mask change")
            # the variants side by side, gone when the expression they answered changes
            page.get_by_text("Variants side by side").click()
            page.locator("#compare").click()
            tiles = page.locator("#compare-gallery img")
            expect(tiles.first).to_be_visible()
            page.locator("#expression textarea").fill("the pink ring")
            expect(tiles).to_have_count(0)
        except Exception:
            page.screenshot(path=str(shot.with_name("demo-maps-failure.png")), full_page=True)
            raise
        finally:
            browser.close()


def test_a_new_input_marks_the_result_stale(server):
    """After an answer, a new image or a new expression marks it stale (a note, the pictures
    dimmed); the same expression again restores it; Segment replaces it."""
    from playwright.sync_api import expect, sync_playwright

    rows = json.loads((EXAMPLES / "examples.json").read_text())
    shot = SHOT.with_name("demo-stale.png")
    with sync_playwright() as p:
        browser, page = open_page(p, server.url)
        try:
            status = page.locator("#status")
            segment_in(page, EXAMPLES / rows[0]["image"], rows[0]["expression"])
            expression = page.locator("#expression textarea")
            expression.fill("the blue square")
            expect(status).to_contain_text("Stale")
            expect(status).to_contain_text("expression changed")
            opacity = page.locator("#result").evaluate("e => getComputedStyle(e).opacity")
            assert float(opacity) < 1, opacity
            expression.fill(rows[0]["expression"])  # back to what the result answered
            expect(status).not_to_contain_text("Stale")
            expect(status).to_contain_text("Mask:")

            page.locator("#input-image input[type=file]").set_input_files(
                str(EXAMPLES / rows[2]["image"])
            )
            expect(status).to_contain_text("image changed")
            page.screenshot(path=str(shot), full_page=False)
            page.locator("#segment").click()
            expect(status).not_to_contain_text("Stale")
            expect(status).to_contain_text("Mask:")
            opacity = page.locator("#result").evaluate("e => getComputedStyle(e).opacity")
            assert float(opacity) == 1, opacity
            # a Segment that fails (an empty expression) keeps its message above the answer:
            # the stale check that follows every call does not replace it (the answer before
            # it has finished: a slower call still running could land after it)
            expression.fill("")
            expect(status).to_contain_text("expression changed")
            page.locator("#segment").click()
            expect(status).to_contain_text("expression is empty")
            page.wait_for_timeout(2000)  # the check after the call has run by now
            expect(status).to_contain_text("expression is empty")
            expect(status).to_contain_text("still the last one")
            expression.fill(rows[0]["expression"])
            # the expression changed while a Segment ran: its answer arrives after the change
            # event, and is checked against the inputs then (stale, not shown as current)
            page.locator("#segment").click()
            expression.fill("the pink ring")
            expect(status).to_contain_text("expression changed")
            expect(status).to_contain_text("Mask:")
        except Exception:
            page.screenshot(path=str(shot.with_name("demo-stale-failure.png")), full_page=True)
            raise
        finally:
            browser.close()


def test_sigterm_stops_the_server_and_removes_its_pictures(server):
    """A process manager (the Procfile's) stops the demo with SIGTERM: it exits with status 0
    and its atexit clean-up runs, so no folder of served pictures is left in TMPDIR."""
    assert list(server.tmp.glob("tvnet-demo-*")), "the demo keeps its pictures under TMPDIR"
    stop(server.proc)
    assert server.proc.returncode == 0
    assert not list(server.tmp.glob("tvnet-demo-*"))
